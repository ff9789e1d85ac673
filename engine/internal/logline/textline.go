package logline

// TextStamp is how a text line's timestamp was found, by the rules of
// docs/formats.md ("Text lines"), tried in order.
type TextStamp uint8

const (
	StampInherited TextStamp = iota // none: the previous line's, or the file's birth time
	StampRFC3339                    // a leading RFC 3339 token
	StampUptime                     // a kernel uptime stamp
)

// TextLine is what ParseTextLine found in a line: the line without its
// escapes is line[:n], and its body is line[body:n].
type TextLine struct {
	N, Body int
	Kind    TextStamp
	T       Time  // StampRFC3339: the time
	Up      int64 // StampUptime: nanoseconds of uptime, to add to the birth time
}

// ParseTextLine strips ANSI escapes from line (in place) and finds its own
// timestamp. For StampRFC3339 the body is the rest of the line after the
// token, leading blanks trimmed; otherwise it is the whole stripped line.
// Every result is an offset into line, never a slice of it.
func ParseTextLine(line []byte) TextLine {
	n := len(StripANSI(line))
	line = line[:n]
	start := skipBlanks(line, 0)
	end := start
	for end < n && line[end] != ' ' && line[end] != '\t' {
		end++
	}
	if end-start >= 20 && line[end-1] == 'Z' {
		if t, ok := ParseRFC3339(line[start:end]); ok {
			return TextLine{N: n, Body: skipBlanks(line, end), Kind: StampRFC3339, T: t}
		}
	}
	if up, ok := parseUptime(line); ok {
		return TextLine{N: n, Kind: StampUptime, Up: up}
	}
	return TextLine{N: n, Kind: StampInherited}
}

// Time returns the line's own timestamp given the file's birth time, and
// false if it has none (it inherits one), an uptime past MaxTime included.
func (tl TextLine) Time(birth Time) (Time, bool) {
	switch tl.Kind {
	case StampRFC3339:
		return tl.T, true
	case StampUptime:
		return AddUptime(birth, tl.Up)
	}
	return Time{}, false
}

// skipBlanks returns the index of the first byte at or after i that is not
// a space or a tab, or len(b).
func skipBlanks(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// maxUptimeSec bounds an uptime stamp so that its nanoseconds fit in an
// int64 (a century of uptime is plenty); AddUptime checks the sum.
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
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if secs <= maxUptimeSec { // past it, the stamp is refused below
			secs = secs*10 + int64(b[i]-'0')
		}
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
