package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// localLayouts are the forms of a --since/--until time without a zone,
// read in now's location as journalctl reads them: a date is its midnight.
var localLayouts = []string{
	"2006-01-02 15:04:05", // a fraction of a second may follow
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseWhen parses a --since/--until value: an RFC 3339 time; a local
// date or date and time (localLayouts); today, yesterday or tomorrow
// (their midnight) or now; or a duration before now such as 30s, 5m, 2h,
// 1d or 1w. Local means now's location.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, ok := parseLocal(s, now.Location()); ok {
		return t, nil
	}
	if t, ok := parseDay(s, now); ok {
		return t, nil
	}
	if d, ok := parseAgo(s); ok {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: want RFC 3339 (2026-05-01T10:00:00Z), a local 2026-05-01 or \"2026-05-01 10:00:01\", today, yesterday, now, or a duration ago (30s, 5m, 2h, 1d, 1w)", s)
}

// parseLocal parses s in one of localLayouts, in loc.
func parseLocal(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseDay parses now, and today, yesterday and tomorrow: their midnight
// in now's location.
func parseDay(s string, now time.Time) (time.Time, bool) {
	var days int
	switch s {
	case "now":
		return now, true
	case "today":
	case "yesterday":
		days = -1
	case "tomorrow":
		days = 1
	default:
		return time.Time{}, false
	}
	y, m, d := now.Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, now.Location()), true
}

// maxAgo is the longest duration ago: what a time.Duration holds (about
// 292 years).
const maxAgo = time.Duration(math.MaxInt64)

// longUnits are the units time.ParseDuration does not know.
var longUnits = map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// parseAgo parses a positive duration with units s, m, h, d or w. Counts
// of days or weeks that are not finite numbers or do not fit a
// time.Duration are refused: converting them would wrap around into the
// future.
func parseAgo(s string) (time.Duration, bool) {
	for suffix, unit := range longUnits {
		n, ok := strings.CutSuffix(s, suffix)
		if !ok {
			continue
		}
		count, err := strconv.ParseFloat(n, 64)
		if err != nil || !(count >= 0) || count*float64(unit) >= float64(maxAgo) {
			return 0, false // also NaN and +Inf
		}
		return time.Duration(count * float64(unit)), true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}
