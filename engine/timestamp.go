package engine

import "time"

// parseRFC3339 parses an RFC 3339 timestamp with any offset and returns Unix
// nanoseconds. The common layout is parsed by hand; anything else falls back
// to the time package so that no valid form is refused.
func parseRFC3339(b []byte) (int64, bool) {
	if ns, ok := parseRFC3339Fast(b); ok {
		return ns, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil || t.Unix() < minUnixSec || t.Unix() > maxUnixSec {
		return 0, false
	}
	return t.UnixNano(), true
}

// parseRFC3339Fast handles YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM).
func parseRFC3339Fast(b []byte) (int64, bool) {
	secs, ok := parseDateTime(b)
	if !ok {
		return 0, false
	}
	return parseFracZone(b[19:], secs)
}

// parseDateTime parses the first 19 bytes, YYYY-MM-DDTHH:MM:SS, into Unix
// seconds (before any zone offset).
func parseDateTime(b []byte) (int64, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') ||
		b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	return daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec), true
}

// parseFracZone parses the fraction and zone after the seconds and returns
// Unix nanoseconds.
func parseFracZone(rest []byte, secs int64) (int64, bool) {
	var frac int64
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i <= 9 {
				frac = frac*10 + int64(rest[i]-'0')
			}
			i++
		}
		if i == 1 {
			return 0, false
		}
		frac *= pow10[10-min(i, 10)]
		rest = rest[i:]
	}
	var offset int64
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, okh := digits(rest[1:3])
		om, okm := digits(rest[4:6])
		if !okh || !okm || oh > 23 || om > 59 {
			return 0, false
		}
		offset = int64(oh*3600+om*60) * 1e9
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	if secs < minUnixSec || secs > maxUnixSec {
		return 0, false // outside what Unix nanoseconds in an int64 hold
	}
	return secs*1e9 + frac - offset, true
}

// The range of seconds whose nanoseconds, give or take a zone offset, fit
// in an int64 (years 1678 to 2262).
const (
	minUnixSec = -9223372036 + 86400
	maxUnixSec = 9223372036 - 86400
)

// timeCache parses exec timestamps, reusing the date and time up to the
// second from the previous line: consecutive lines mostly share it.
type timeCache struct {
	prefix [19]byte
	secs   int64
	valid  bool
}

func (c *timeCache) parse(b []byte) (int64, bool) {
	if c.valid && len(b) >= 20 && string(b[:19]) == string(c.prefix[:]) {
		if ns, ok := parseFracZone(b[19:], c.secs); ok {
			return ns, true
		}
	}
	if secs, ok := parseDateTime(b); ok {
		if ns, ok := parseFracZone(b[19:], secs); ok {
			copy(c.prefix[:], b)
			c.secs, c.valid = secs, true
			return ns, true
		}
	}
	return parseRFC3339(b)
}

// pow10[k] is 10 to the power k.
var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(month, year int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch converts a civil date to days since 1970-01-01
// (Howard Hinnant's days_from_civil).
func daysSinceEpoch(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// timeFormatter formats Unix nanoseconds as 2006-01-02T15:04:05.000Z,
// caching the part up to the second, which consecutive entries share.
type timeFormatter struct {
	sec int64
	buf [24]byte
	ok  bool
}

// TimeLen is the length of a formatted timestamp.
const TimeLen = 24

func (f *timeFormatter) format(ns int64) []byte {
	sec := ns / 1e9
	msec := (ns % 1e9) / 1e6
	if ns < 0 && ns%1e9 != 0 {
		sec--
		msec = (ns%1e9 + 1e9) / 1e6
	}
	if !f.ok || sec != f.sec {
		t := time.Unix(sec, 0).UTC()
		t.AppendFormat(f.buf[:0], "2006-01-02T15:04:05")
		f.buf[19] = '.'
		f.buf[23] = 'Z'
		f.sec, f.ok = sec, true
	}
	f.buf[20] = byte('0' + msec/100)
	f.buf[21] = byte('0' + msec/10%10)
	f.buf[22] = byte('0' + msec%10)
	return f.buf[:]
}

// FormatTime formats Unix nanoseconds the way every rendering shows time.
func FormatTime(ns int64) string {
	var f timeFormatter
	return string(f.format(ns))
}
