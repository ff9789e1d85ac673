package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseWhen parses a --since/--until value: an RFC 3339 time, or a
// duration before now such as 30s, 5m, 2h or 1d.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, ok := parseAgo(s); ok {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: want RFC 3339 (2026-05-01T10:00:00Z) or a duration ago (30s, 5m, 2h, 1d)", s)
}

// maxAgo is the longest duration ago: what a time.Duration holds (about
// 292 years).
const maxAgo = time.Duration(math.MaxInt64)

// parseAgo parses a positive duration with units s, m, h or d. Day counts
// that are not finite numbers or do not fit a time.Duration are refused:
// converting them would wrap around into the future.
func parseAgo(s string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || !(days >= 0) || days*float64(24*time.Hour) >= float64(maxAgo) {
			return 0, false // also NaN and +Inf
		}
		return time.Duration(days * float64(24*time.Hour)), true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}
