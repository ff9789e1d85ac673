package logline

import (
	"cmp"
	"math"
	"time"
)

// Time is an instant in UTC: seconds since the Unix epoch and nanoseconds.
// Unlike int64 nanoseconds, which stop at the years 1678 and 2262, it holds
// every time RFC 3339 can write (years 0000 to 9999). A leap second
// 23:59:60.x is modelled as microsandbox's chrono models it: second :59 with
// Nsec = 1e9 + x, so that it sorts after every instant of :59 and before the
// next minute. Times compare with == and Compare.
type Time struct {
	Sec  int64  // Unix seconds
	Nsec uint32 // below 2e9; at or above 1e9 only in a leap second
}

// The range of times rendered as YYYY-MM-DDTHH:MM:SS.mmmZ with a four-digit
// year: 0000-01-01T00:00:00Z to 9999-12-31T23:59:60.999999999Z.
var (
	MinTime = Time{Sec: -62167219200}
	MaxTime = Time{Sec: 253402300799, Nsec: 2e9 - 1}
)

// The extremes of the merge's keys, below and above any entry's time.
var (
	TimeBottom = Time{Sec: math.MinInt64}
	TimeTop    = Time{Sec: math.MaxInt64, Nsec: 2e9 - 1}
)

// TimeOf returns the Time of t.
func TimeOf(t time.Time) Time { return Time{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())} }

// UnixNanoTime returns the Time of ns Unix nanoseconds.
func UnixNanoTime(ns int64) Time {
	sec, nsec := ns/1e9, ns%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	return Time{Sec: sec, Nsec: uint32(nsec)}
}

// Compare returns -1, 0 or +1 as t is before, equal to or after o.
func (t Time) Compare(o Time) int {
	if c := cmp.Compare(t.Sec, o.Sec); c != 0 {
		return c
	}
	return cmp.Compare(t.Nsec, o.Nsec)
}

// Less reports whether t is before o.
func (t Time) Less(o Time) bool { return t.Sec < o.Sec || (t.Sec == o.Sec && t.Nsec < o.Nsec) }

// IsZero reports whether t is the zero Time, 1970-01-01T00:00:00Z, which
// a Query reads as "unset".
func (t Time) IsZero() bool { return t == Time{} }

// String formats t the way every rendering shows time.
func (t Time) String() string { return FormatTime(t) }

// ClampTime brings t into [MinTime, MaxTime], the times a rendering can
// show; only a file's birth time or mtime can be outside.
func ClampTime(t Time) Time {
	switch {
	case t.Less(MinTime):
		return MinTime
	case MaxTime.Less(t):
		return MaxTime
	}
	return t
}

// AddUptime returns birth plus ns nanoseconds of uptime (ns >= 0), and false
// if that is past MaxTime.
func AddUptime(birth Time, ns int64) (Time, bool) {
	if ns < 0 || birth.Sec > MaxTime.Sec || ns/1e9 > MaxTime.Sec-max(birth.Sec, MinTime.Sec) {
		return Time{}, false
	}
	t := Time{Sec: birth.Sec + ns/1e9, Nsec: birth.Nsec + uint32(ns%1e9)}
	if birth.Nsec >= 1e9 { // a leap second plus uptime: count from the next second
		t.Sec, t.Nsec = t.Sec+1, t.Nsec-1e9
	}
	if t.Nsec >= 1e9 {
		t.Sec, t.Nsec = t.Sec+1, t.Nsec-1e9
	}
	return t, !MaxTime.Less(t)
}

// ParseTime parses an RFC 3339 time, any offset and leap seconds included.
func ParseTime(s string) (Time, bool) { return ParseRFC3339([]byte(s)) }
