package main

import (
	"testing"
	"time"
)

// TestParseWhenJournalctlForms: --since/--until read the forms journalctl
// reads — a local date (its midnight), a local date and time, today,
// yesterday, tomorrow, now, and weeks — in now's location.
func TestParseWhenJournalctlForms(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	now := time.Date(2026, 5, 1, 10, 30, 0, 0, loc)
	for s, want := range map[string]time.Time{
		"2026-04-20":             time.Date(2026, 4, 20, 0, 0, 0, 0, loc),
		"2026-04-20 10:00:01":    time.Date(2026, 4, 20, 10, 0, 1, 0, loc),
		"2026-04-20 10:00:01.25": time.Date(2026, 4, 20, 10, 0, 1, 250e6, loc),
		"2026-04-20T10:00:01":    time.Date(2026, 4, 20, 10, 0, 1, 0, loc),
		"2026-04-20 10:00":       time.Date(2026, 4, 20, 10, 0, 0, 0, loc),
		"2026-04-20T10:00:01Z":   time.Date(2026, 4, 20, 10, 0, 1, 0, time.UTC),
		"today":                  time.Date(2026, 5, 1, 0, 0, 0, 0, loc),
		"yesterday":              time.Date(2026, 4, 30, 0, 0, 0, 0, loc),
		"tomorrow":               time.Date(2026, 5, 2, 0, 0, 0, 0, loc),
		"now":                    now,
		"1w":                     now.Add(-7 * 24 * time.Hour),
		"2d":                     now.Add(-48 * time.Hour),
	} {
		got, err := parseWhen(s, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"2026-02-30", "2026-04-20 25:00:00", "2026-4-20", "Today", "1w2d", "-1w", "20260420", "2026-04-20 "} {
		if got, err := parseWhen(s, now); err == nil {
			t.Errorf("%q: taken as %v", s, got)
		}
	}
}
