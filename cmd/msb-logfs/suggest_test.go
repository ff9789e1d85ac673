package main

import (
	"slices"
	"testing"
)

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"logs", "logs", 0}, {"lgos", "logs", 1}, {"log", "logs", 1},
		{"mount", "unmount", 2}, {"", "abc", 3}, {"abc", "", 3}, {"kitten", "sitting", 3},
		{"ab", "ba", 1}, {"cursr", "cursor", 1}, {"é", "e", 1},
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestNearest(t *testing.T) {
	commands := []string{"logs", "cursor", "sessions", "mount", "unmount", "demo", "list", "ls", "version"}
	for name, want := range map[string][]string{
		"lgos":    {"logs"},
		"mout":    {"mount"},
		"cursro":  {"cursor"},
		"zzzzzzz": nil,
		"ses":     {"sessions"},
		"lst":     {"list", "ls"},
	} {
		if got := nearest(name, commands); !slices.Equal(got, want) {
			t.Errorf("nearest(%q) = %q, want %q", name, got, want)
		}
	}
	if got := nearest("a", []string{"ab", "ac", "ad", "ae", "af"}); len(got) != maxSuggestions {
		t.Errorf("nearest of many: %q, want %d", got, maxSuggestions)
	}
}
