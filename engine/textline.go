package engine

import "bytes"

// textStamp is how a text line's timestamp was found (SPEC §1).
type textStamp uint8

const (
	stampInherited textStamp = iota // rules 3 and 4: previous line's, or the file's birth
	stampRFC3339                    // rule 1: a leading RFC 3339 token
	stampUptime                     // rule 2: a kernel uptime stamp
)

// parseTextLine strips ANSI escapes from line (in place) and finds its own
// timestamp. For stampRFC3339 the body is the rest of the line after the
// token; otherwise it is the whole line. For stampUptime, ns is the uptime
// in nanoseconds, to be added to the file's birth time.
func parseTextLine(line []byte) (body []byte, kind textStamp, ns int64) {
	line = stripANSI(line)
	rest := bytes.TrimLeft(line, " \t")
	tok := rest
	if end := bytes.IndexAny(rest, " \t"); end >= 0 {
		tok = rest[:end]
	}
	if len(tok) >= 20 && tok[len(tok)-1] == 'Z' {
		if t, ok := parseRFC3339(tok); ok {
			return bytes.TrimLeft(rest[len(tok):], " \t"), stampRFC3339, t
		}
	}
	if up, ok := parseUptime(line); ok {
		return line, stampUptime, up
	}
	return line, stampInherited, 0
}

// maxUptimeSec bounds an uptime stamp so that birth time plus uptime stays
// within int64 nanoseconds (a century of uptime is plenty).
const maxUptimeSec = 100 * 365 * 86400

// parseUptime parses a leading kernel uptime stamp "[ 12.345678]".
func parseUptime(b []byte) (int64, bool) {
	if len(b) < 4 || b[0] != '[' {
		return 0, false
	}
	i := 1
	for i < len(b) && b[i] == ' ' {
		i++
	}
	var secs int64
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 12 {
		secs = secs*10 + int64(b[i]-'0')
		i++
	}
	if i == start || i >= len(b) || b[i] != '.' {
		return 0, false
	}
	i++
	var frac int64
	scale := int64(100_000_000)
	fstart := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		frac += int64(b[i]-'0') * scale
		scale /= 10
		i++
	}
	if i == fstart || i >= len(b) || b[i] != ']' || secs > maxUptimeSec {
		return 0, false
	}
	return secs*1e9 + frac, true
}
