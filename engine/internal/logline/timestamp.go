package logline

// ParseRFC3339 parses an RFC 3339 timestamp with any offset, a leap second
// included, into a Time within [MinTime, MaxTime].
func ParseRFC3339(b []byte) (Time, bool) {
	secs, leap, ok := parseDateTime(b)
	if !ok {
		return Time{}, false
	}
	return parseFracZone(b[19:], secs, leap)
}

// parseDateTime parses the first 19 bytes, YYYY-MM-DDTHH:MM:SS, into Unix
// seconds (before any zone offset). A second of 60 is a leap second: it is
// returned as second 59 with leap set.
func parseDateTime(b []byte) (secs int64, leap, ok bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') ||
		b[13] != ':' || b[16] != ':' {
		return 0, false, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 {
		return 0, false, false
	}
	if sec == 60 {
		sec, leap = 59, true
	}
	return daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec), leap, true
}

// parseFracZone parses the fraction and zone after the seconds.
func parseFracZone(rest []byte, secs int64, leap bool) (Time, bool) {
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
			return Time{}, false
		}
		frac *= pow10[10-min(i, 10)]
		rest = rest[i:]
	}
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, okh := digits(rest[1:3])
		om, okm := digits(rest[4:6])
		if !okh || !okm || oh > 23 || om > 59 {
			return Time{}, false
		}
		if rest[0] == '-' {
			secs += int64(oh*3600 + om*60)
		} else {
			secs -= int64(oh*3600 + om*60)
		}
	default:
		return Time{}, false
	}
	if leap {
		frac += 1e9
	}
	t := Time{Sec: secs, Nsec: uint32(frac)}
	if t.Less(MinTime) || MaxTime.Less(t) { // a year outside 0000–9999 in UTC
		return Time{}, false
	}
	return t, true
}

// timeCache parses exec timestamps, reusing the date and time up to the
// second from the previous line: consecutive lines mostly share it.
type timeCache struct {
	prefix [19]byte
	secs   int64
	leap   bool
	valid  bool
}

func (c *timeCache) parse(b []byte) (Time, bool) {
	if c.valid && len(b) >= 20 && string(b[:19]) == string(c.prefix[:]) {
		return parseFracZone(b[19:], c.secs, c.leap)
	}
	secs, leap, ok := parseDateTime(b)
	if !ok {
		return Time{}, false
	}
	copy(c.prefix[:], b)
	c.secs, c.leap, c.valid = secs, leap, true
	return parseFracZone(b[19:], secs, leap)
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

// TimeFormatter formats a Time as 2006-01-02T15:04:05.000Z, caching the
// part up to the second, which consecutive entries share.
type TimeFormatter struct {
	sec  int64
	leap bool
	buf  [TimeLen]byte
	ok   bool
}

// TimeLen is the length of a formatted timestamp.
const TimeLen = 24

// Format returns t as the views show it, YYYY-MM-DDTHH:MM:SS.mmmZ, in a
// buffer of f's that the next call overwrites.
func (f *TimeFormatter) Format(t Time) []byte {
	t = ClampTime(t)
	leap := t.Nsec >= 1e9
	msec := t.Nsec / 1e6 % 1000
	if !f.ok || t.Sec != f.sec || leap != f.leap {
		f.formatSecond(t.Sec, leap)
	}
	f.buf[20] = byte('0' + msec/100)
	f.buf[21] = byte('0' + msec/10%10)
	f.buf[22] = byte('0' + msec%10)
	return f.buf[:]
}

// formatSecond fills the date and time up to the second, for sec within
// [MinTime, MaxTime]; a leap second shows as :60.
func (f *TimeFormatter) formatSecond(sec int64, leap bool) {
	days, rem := sec/86400, sec%86400
	if rem < 0 {
		days, rem = days-1, rem+86400
	}
	y, m, d := civilFromDays(days)
	s := rem % 60
	if leap {
		s++
	}
	put2 := func(i int, v int64) { f.buf[i], f.buf[i+1] = byte('0'+v/10), byte('0'+v%10) }
	put2(0, y/100)
	put2(2, y%100)
	f.buf[4] = '-'
	put2(5, m)
	f.buf[7] = '-'
	put2(8, d)
	f.buf[10] = 'T'
	put2(11, rem/3600)
	f.buf[13] = ':'
	put2(14, rem/60%60)
	f.buf[16] = ':'
	put2(17, s)
	f.buf[19] = '.'
	f.buf[23] = 'Z'
	f.sec, f.leap, f.ok = sec, leap, true
}

// civilFromDays converts days since 1970-01-01 to a civil date (Howard
// Hinnant's civil_from_days).
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// FormatTime formats t the way every rendering shows time.
func FormatTime(t Time) string {
	var f TimeFormatter
	return string(f.Format(t))
}
