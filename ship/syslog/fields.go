package syslog

import (
	"time"

	"github.com/microsandbox/msb-logfs/ship"
)

// severity maps a record's severity to syslog's (RFC 5424 §6.2.1).
func severity(s ship.Severity) uint8 {
	switch {
	case s >= ship.SeverityFatal:
		return 2 // critical
	case s >= ship.SeverityError:
		return 3 // error
	case s >= ship.SeverityWarn:
		return 4 // warning
	case s >= ship.SeverityInfo:
		return 6 // informational
	}
	return 7 // debug
}

// timestamp formats a time in UTC with microseconds: RFC 5424 allows at
// most six fractional digits.
func timestamp(sec int64, nsec uint32) string {
	return time.Unix(sec, int64(nsec)).UTC().Format("2006-01-02T15:04:05.000000Z")
}

// printable returns s cut to n bytes with every byte outside printable
// US-ASCII (33-126) replaced by '_', as RFC 5424's header fields require;
// "-" for an empty s.
func printable(s string, n int) string {
	if s == "" {
		return "-"
	}
	b := []byte(s)
	if len(b) > n {
		b = b[:n]
	}
	for i, c := range b {
		if c < 33 || c > 126 {
			b[i] = '_'
		}
	}
	return string(b)
}
