package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// These tests run the real binary for logs --id, on the sandbox of
// sessions(): ids 1, 2 and 12, and a system entry without one.

// TestLogsID: --id keeps the entries of the sessions named (one, a comma
// list, or repeated), with --show-id, -t, --json, --grep and --tail.
func TestLogsID(t *testing.T) {
	home := sessions(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--id", "2"}, "three\nfour\n"},
		{[]string{"--id", "1,12"}, "one\ntwo\nfive\n"},
		{[]string{"--id", "12", "--id", "1"}, "one\ntwo\nfive\n"},
		{[]string{"--id", " 1 , 1"}, "one\ntwo\n"},
		{[]string{"--id", "2", "--source", "all", "--show-id"}, "[id:2] three\n[id:2] four\n"},
		{[]string{"--id", "1,2", "--grep", "^t"}, "two\nthr"},
		{[]string{"--id", "1", "-n", "1", "-t"}, fmt.Sprintf("%s stderr two\n", stamp(2))},
		{[]string{"--id", "99"}, ""},
		{[]string{"--id", "0"}, ""},
		{[]string{"--id", "2", "--color", "always", "--color-by-id"}, "\x1b[34;1mthr\x1b[0m\x1b[34mee\x1b[0m\n\x1b[34mfour\x1b[0m\n"},
	} {
		got := mustRun(t, append([]string{"logs", "foo", "--home", home}, c.args...)...)
		if got != c.want {
			t.Errorf("%v:\n got %q\nwant %q", c.args, got, c.want)
		}
	}
	for _, e := range parseJSONL(t, mustRun(t, "logs", "foo", "--home", home, "--json", "--id", "12", "--source", "all")) {
		if e.ID == nil || *e.ID != 12 || e.D != "five\n" {
			t.Errorf("--json --id 12: %+v", e)
		}
	}
}

// TestLogsIDBad: a bad --id is one line on stderr and exit 2, before
// anything is printed.
func TestLogsIDBad(t *testing.T) {
	home := sessions(t)
	for _, bad := range []string{"abc", "-1", "+1", "1,,2", "", "1.5", "18446744073709551616", "0x10", "7x"} {
		out, errOut, code := run(t, "logs", "foo", "--home", home, "--id", bad)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--id") {
			t.Errorf("--id %q: exit %d, stdout %q, stderr %q; want exit 2, one line naming --id", bad, code, out, errOut)
		}
	}
}

// TestLogsIDFollow: logs -f --id prints the appends of its session only.
func TestLogsIDFollow(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	chunk(t, s, 1, "stdout", "a1\n", 1)
	chunk(t, s, 2, "stdout", "b1\n", 2)
	f := follow(t, "logs", "--home", home, "-f", "--id", "2", "--show-id", "foo")
	f.expect("[id:2] b1")
	chunk(t, s, 3, "stdout", "a2\n", 1)
	chunk(t, s, 4, "output", "b2\n", 2)
	chunk(t, s, 5, "stdout", "a3\n", 1)
	chunk(t, s, 6, "stderr", "b3\n", 2)
	f.expect("[id:2] b2")
	f.expect("[id:2] b3")
	if err := f.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v", err)
	}
	if extra, ok := <-f.lines; ok {
		t.Fatalf("unexpected line %q", extra)
	}
}
