package main

import (
	"fmt"
	"strings"
	"testing"
)

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	lines = lines[:len(lines)-1] // after the final newline
	return strings.Join(lines[max(len(lines)-n, 0):], "")
}

// TestLogsTailIsTheEnd: --tail N prints the last N entries of what the
// same command prints without it, with source and time filters and in every
// format (the entries are read again from the position before them).
func TestLogsTailIsTheEnd(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	for i := range 30 {
		write(t, s, i, []string{"stdout", "stderr", "system"}[i%3], fmt.Sprintf("line %d\n", i))
	}
	for _, args := range [][]string{{}, {"--source", "stdout"}, {"--source", "all", "-t"}, {"--json", "--source", "all"},
		{"--since", at(10).Format("2006-01-02T15:04:05Z"), "--until", at(20).Format("2006-01-02T15:04:05Z"), "-t"}} {
		base := append([]string{"logs", "--home", home}, args...)
		all := mustRun(t, append(base, "foo")...)
		for _, n := range []int{0, 1, 4, 25, 1000} {
			got := mustRun(t, append(base, "--tail", fmt.Sprint(n), "foo")...)
			if want := lastLines(all, n); got != want {
				t.Errorf("%v --tail %d: %q, want %q", args, n, got, want)
			}
		}
	}
}
