package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
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

// TestLogsMemoryBoundedByLine: one 10 MiB exec.log line whose d is 5 Mi
// newline escapes renders to 170 MB of text; every format of `logs`, and
// --tail, print it with a peak RSS (the child's getrusage maxrss) within
// 128 MiB, and print the right number of bytes.
func TestLogsMemoryBoundedByLine(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "big")
	write(t, s, 1, "stdout", strings.Repeat("\n", 5<<20))
	write(t, s, 2, "stdout", "after\n")
	const textLen = len("2026-05-01T10:00:01.000Z stdout \n")
	for _, c := range []struct {
		args []string
		want int
	}{
		{nil, 5<<20 + 6},
		{[]string{"-t"}, 5<<20*textLen + textLen - 1 + len("after\n")},
		{[]string{"-t", "--tail", "2"}, 5<<20*textLen + textLen - 1 + len("after\n")},
		{[]string{"--json"}, -1},
	} {
		cmd := exec.Command(binary, append(append([]string{"logs", "--home", home}, c.args...), "big")...)
		var out countWriter
		cmd.Stdout = &out
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("logs %v: %v: %s", c.args, err, stderr.String())
		}
		if c.want >= 0 && out.n != c.want {
			t.Errorf("logs %v: %d bytes, want %d", c.args, out.n, c.want)
		}
		if c.want < 0 && out.n < 10<<20 {
			t.Errorf("logs %v: %d bytes, want the 10 MiB line and more", c.args, out.n)
		}
		peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
		t.Logf("logs %v: peak RSS %d MiB for %d bytes of output", c.args, peak>>20, out.n)
		if peak > 128<<20 {
			t.Errorf("logs %v: peak RSS %d MiB, want at most 128 MiB", c.args, peak>>20)
		}
	}
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
