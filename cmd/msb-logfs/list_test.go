package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestList: list (and ls) prints each sandbox with its log bytes on disk,
// last write, session count and lines skipped as bad input (a repeated
// key, not JSON; an empty line is not counted); -q the names; --format json
// one object per line with the exact figures.
func TestList(t *testing.T) {
	home := t.TempDir()
	a := newSandbox(t, home, "alpha")
	chunk(t, a, 1, "stdout", "one\n", 1)
	chunk(t, a, 2, "stdout", "two\n", 2)
	for _, bad := range []string{`{"t":"2026-05-01T10:00:03Z","s":"stdout","s":"stderr","d":"x"}`, "not json", ""} {
		if err := a.ExecLine([]byte(bad + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	newSandbox(t, home, "beta")
	mtime := time.Date(2026, 5, 2, 3, 4, 5, 0, time.UTC)
	logs := filepath.Join(home, "sandboxes", "alpha", "logs")
	var bytes int64
	ents, err := os.ReadDir(logs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		bytes += fi.Size()
		if err := os.Chtimes(filepath.Join(logs, e.Name()), mtime, mtime.Add(-time.Duration(len(e.Name()))*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.Chtimes(filepath.Join(logs, "exec.log"), mtime, mtime)

	out := mustRun(t, "list", "--home", home)
	if !regexp.MustCompile(`(?m)^NAME +LOG SIZE +LAST WRITE +SESSIONS +SKIPPED\nalpha +\d+ B +2026-05-02 03:04:05 +2 +2\nbeta +\d+ B +\S.* +0 +0\n$`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}
	if got := mustRun(t, "ls", "-q", "--home", home); got != "alpha\nbeta\n" {
		t.Errorf("ls -q: %q", got)
	}
	var rows []sandboxSummary
	for _, l := range strings.Split(strings.TrimSpace(mustRun(t, "list", "--format", "json", "--home", home)), "\n") {
		var r sandboxSummary
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 || rows[0].Name != "alpha" || rows[0].LogBytes != bytes || rows[0].Sessions != 2 || rows[0].Skipped != 2 ||
		rows[0].LastWrite == nil || !rows[0].LastWrite.Equal(mtime) || rows[1].Name != "beta" || rows[1].Sessions != 0 || rows[1].Skipped != 0 {
		t.Errorf("list --format json: %+v; want alpha with %d bytes, 2 sessions, 2 skipped lines, last write %v, then beta", rows, bytes, mtime)
	}
}

// TestListEmptyHome: a home without sandboxes/ lists nothing, and says
// which directory it looked for on stderr.
func TestListEmptyHome(t *testing.T) {
	home := t.TempDir()
	out, errOut, code := run(t, "list", "--home", home)
	if code != 0 || out != "NAME  LOG SIZE  LAST WRITE  SESSIONS  SKIPPED\n" || !strings.Contains(errOut, filepath.Join(home, "sandboxes")) {
		t.Errorf("list of an empty home: %d, %q, %q", code, out, errOut)
	}
}

// TestLogsPointsAtList: logs without a sandbox, or with an unknown one,
// says how to list them and suggests the nearest names.
func TestLogsPointsAtList(t *testing.T) {
	home := t.TempDir()
	newSandbox(t, home, "alpha")
	newSandbox(t, home, "alpine")
	oneLineError(t, "want exactly one SANDBOX, got 0 arguments (`msb-logfs list` shows them)", "logs", "--home", home)
	oneLineError(t, `did you mean "alpha"? (`+"`msb-logfs list` shows them)", "logs", "--home", home, "alpah")
	oneLineError(t, `did you mean "alpine"?`, "cursor", "--home", home, "alpin")
	_, errOut, _ := run(t, "logs", "--home", home, "zzzzzz")
	if strings.Contains(errOut, "did you mean") || !strings.Contains(errOut, "`msb-logfs list` shows them") {
		t.Errorf("logs of a far name: %q", errOut)
	}
}

// TestTailAllAndOutput: --tail all (docker's spelling) is every entry;
// -o json is --json and -o short is --timestamps, as journalctl names them.
func TestTailAllAndOutput(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	for i := 1; i <= 3; i++ {
		write(t, s, i, "stdout", "line\n")
	}
	all := mustRun(t, "logs", "foo", "--home", home)
	if got := mustRun(t, "logs", "foo", "--home", home, "--tail", "all"); got != all || strings.Count(got, "\n") != 3 {
		t.Errorf("--tail all: %q, want %q", got, all)
	}
	if got := mustRun(t, "logs", "foo", "--home", home, "-n", "1"); got != "line\n" {
		t.Errorf("-n 1: %q", got)
	}
	for flag, same := range map[string]string{"json": "--json", "short": "--timestamps"} {
		want := mustRun(t, "logs", "foo", "--home", home, same)
		for _, o := range [][]string{{"-o", flag}, {"--output", flag}, {"-o" + flag}} {
			if got := mustRun(t, append([]string{"logs", "foo", "--home", home}, o...)...); got != want {
				t.Errorf("%q: %q, want the output of %s %q", o, got, same, want)
			}
		}
	}
	if got := mustRun(t, "logs", "foo", "--home", home, "-o", "cat"); got != all {
		t.Errorf("-o cat: %q, want %q", got, all)
	}
}

// TestVersion: --version and version print this version, Go's and
// go-fuse's, on stdout.
func TestVersion(t *testing.T) {
	a, b := mustRun(t, "--version"), mustRun(t, "version")
	if a != b {
		t.Errorf("--version %q and version %q differ", a, b)
	}
	if !regexp.MustCompile(`^msb-logfs \S+\n(- commit: .*\n)?- go: go1\.\d+\S* \w+/\w+\n- go-fuse: v2\.\d+\.\d+\S*\n$`).MatchString(a) {
		t.Errorf("--version:\n%s", a)
	}
}
