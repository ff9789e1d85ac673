package main

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseWhen: the --since/--until parser never panics; an RFC 3339
// time is taken as time.Parse reads it, a local date or date and time as
// time.ParseInLocation reads it in now's location; a day name is a
// midnight at most a day from today's; a duration ago is never in the
// future nor further back than a time.Duration reaches; a refusal is one
// line, as the CLI prints it. Run it with
//
//	go test -run='^$' -fuzz='^FuzzParseWhen$' -fuzztime=20s ./cmd/msb-logfs/
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"2026-05-01T10:00:00Z", "2026-05-01T12:00:00.5+02:00", "30s", "5m", "2h", "1d", "1.5d",
		"-1d", "NaNd", "Infd", "1e300d", "106751d", "9999999h", "d", "", "5", "2026-13-01T00:00:00Z", "line\nbreak",
		"2026-05-01", "2026-05-01 10:00:01", "2026-05-01 10:00:01.25", "2026-05-01T10:00:01", "2026-05-01 10:00", "2026-02-30",
		"2026-05-01 25:00:00", "today", "yesterday", "tomorrow", "now", "Today", "1w", "0.5w", "NaNw", "1e300w", "15250w", "-1w", "2w3d"} {
		f.Add(s)
	}
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.FixedZone("UTC+2", 2*3600))
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseWhen(s, now)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("%q: error of more than one line: %q", s, err)
			}
			return
		}
		if want, perr := time.Parse(time.RFC3339Nano, s); perr == nil {
			if !got.Equal(want) {
				t.Fatalf("%q: %v, want %v", s, got, want)
			}
			return
		}
		if want, ok := parseLocal(s, now.Location()); ok {
			if !got.Equal(want) || got.Location() != now.Location() {
				t.Fatalf("%q: %v, want %v in now's location", s, got, want)
			}
			return
		}
		if s == "now" || s == "today" || s == "yesterday" || s == "tomorrow" {
			checkDay(t, s, got, now)
			return
		}
		if got.After(now) {
			t.Fatalf("%q: %v is after now (%v): a duration ago must not be in the future", s, got, now)
		}
		if d := now.Sub(got); d < 0 || got.Before(now.Add(-maxAgo)) {
			t.Fatalf("%q: %v ago is beyond the largest duration", s, d)
		}
	})
}

// checkDay checks the time of a day name: now itself, or a midnight in
// now's location at most a day from today's.
func checkDay(t *testing.T, s string, got, now time.Time) {
	t.Helper()
	if s == "now" {
		if !got.Equal(now) {
			t.Fatalf("now: %v, want %v", got, now)
		}
		return
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	in := got.In(now.Location())
	if in.Hour() != 0 || in.Minute() != 0 || in.Second() != 0 || in.Nanosecond() != 0 || got.Sub(today).Abs() > 25*time.Hour {
		t.Fatalf("%q: %v is not a midnight next to %v", s, got, today)
	}
}

// TestParseAgoRefusesWhatOverflows: day counts that are not numbers or do
// not fit a time.Duration are refused (they used to wrap into the future).
func TestParseAgoRefusesWhatOverflows(t *testing.T) {
	for _, s := range []string{"NaNd", "Infd", "+Infd", "1e300d", "106752d", "-1d", "-0.5d", "NaNw", "1e300w", "15251w", "-1w"} {
		if d, ok := parseAgo(s); ok {
			t.Errorf("%q: taken as %v", s, d)
		}
	}
	for s, want := range map[string]time.Duration{"1d": 24 * time.Hour, "0.5d": 12 * time.Hour, "106751d": 106751 * 24 * time.Hour, "90m": 90 * time.Minute,
		"1w": 7 * 24 * time.Hour, "0.5w": 84 * time.Hour, "15250w": 15250 * 7 * 24 * time.Hour} {
		if d, ok := parseAgo(s); !ok || d != want {
			t.Errorf("%q: %v %v, want %v", s, d, ok, want)
		}
	}
}
