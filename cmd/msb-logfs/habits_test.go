package main

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the real binary with the command lines people type out
// of habit (docker logs, journalctl, msb logs).

// oneLineError checks a refusal: status 2, nothing on stdout, one line on
// stderr holding want.
func oneLineError(t *testing.T, want string, args ...string) {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) {
		t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2, nothing, one line with %q", args, code, out, errOut, want)
	}
}

// TestFlagsAnywhere: flags may follow the arguments, combine (-tn 1, -n1)
// and "--" ends them, for logs, cursor and mount alike.
func TestFlagsAnywhere(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "one\n")
	write(t, s, 2, "stderr", "two\n")
	want := mustRun(t, "logs", "--home", home, "--timestamps", "--tail", "1", "foo")
	if !strings.HasSuffix(want, " stderr two\n") {
		t.Fatalf("reference run: %q", want)
	}
	for _, args := range [][]string{
		{"logs", "foo", "--home", home, "--timestamps", "--tail", "1"},
		{"logs", "foo", "-tn", "1", "--home=" + home},
		{"logs", "-t", "foo", "-n1", "--home", home},
		{"logs", "-n=1", "--home", home, "-t", "--", "foo"},
	} {
		if got := mustRun(t, args...); got != want {
			t.Errorf("%q: %q, want %q", args, got, want)
		}
	}
	cur := mustRun(t, "cursor", "--home", home, "foo")
	if got := mustRun(t, "cursor", "foo", "--home", home); got != cur || cur == "" {
		t.Errorf("cursor with --home last: %q, want %q", got, cur)
	}
	// After "--" a name that looks like a flag is a sandbox.
	newSandbox(t, home, "-f")
	if _, errOut, code := run(t, "logs", "--home", home, "--", "-f"); code != 0 {
		t.Errorf("logs -- -f: exit %d: %s", code, errOut)
	}
}

// TestFollowFlagAfterSandbox: "logs foo -f" follows (it used to take -f
// for a second SANDBOX) until SIGINT, which ends it with status 0.
func TestFollowFlagAfterSandbox(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "before\n")
	f := follow(t, "logs", "foo", "-f", "--home", home)
	f.expect("before")
	write(t, s, 2, "stdout", "after\n")
	f.expect("after")
	if err := f.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, f.cmd, 5*time.Second); code != 0 {
		t.Fatalf("after SIGINT: exit %d", code)
	}
}

// followed is a running binary whose stdout is read line by line.
type followed struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string // closed at the end of stdout
}

// follow starts the binary; it is killed at the end of the test.
func follow(t *testing.T, args ...string) *followed {
	t.Helper()
	f := &followed{t: t, cmd: exec.Command(binary, args...), lines: make(chan string, 16)}
	stdout, err := f.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f.lines <- sc.Text()
		}
		close(f.lines)
	}()
	return f
}

// expect waits up to 5 s for the next line and checks it is want.
func (f *followed) expect(want string) {
	f.t.Helper()
	select {
	case got := <-f.lines:
		if got != want {
			f.t.Fatalf("got %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		f.t.Fatalf("no %q within 5 s", want)
	}
}

// TestUsageErrorsOneLine: an unknown flag, a flag without its value, a
// value urfave/cli cannot parse, a negative --tail, --json with -t and a
// bad --color: status 2 and one line, never help on stdout.
func TestUsageErrorsOneLine(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "one\n")
	for want, args := range map[string][]string{
		"unknown flag --grepp; see msb-logfs logs --help": {"logs", "foo", "--grepp", "x"},
		"unknown flag -x (in -fx)":                        {"logs", "-fx", "foo"},
		"unknown flag --bogus; see msb-logfs cursor":      {"cursor", "foo", "--bogus"},
		"unknown flag --bogus; see msb-logfs mount":       {"mount", "--bogus"},
		"flag --since needs a value":                      {"logs", "foo", "--since"},
		`--tail "abc": want a count of entries, or all`:   {"logs", "foo", "--tail", "abc"},
		`--tail "abc": want a count`:                      {"logs", "foo", "-n", "abc"},
		`--output "xml": want json (the same as --json)`:  {"logs", "foo", "-o", "xml"},
		"--output and --json or --timestamps":             {"logs", "foo", "--output", "json", "-t"},
		`--format "xml": want table or json`:              {"list", "--format", "xml"},
		"--tail -5: want a count of 0 or more":            {"logs", "foo", "--tail", "-5"},
		"--tail -1: want a count":                         {"logs", "foo", "-n=-1"},
		"--json and --timestamps":                         {"logs", "foo", "--json", "-t"},
		`--color "sometimes": want auto, always or never`: {"logs", "foo", "--color", "sometimes"},
		`--grep "(": missing closing )`:                   {"logs", "foo", "--grep", "("},
		"bad time \"2026-13-01\"":                         {"logs", "foo", "--since", "2026-13-01"},
	} {
		oneLineError(t, want, append([]string{args[0], "--home", home}, args[1:]...)...)
	}
}

// TestSinceUntilLocalDates: --since/--until read local dates, local dates
// with a time, and the day names, in the zone of $TZ.
func TestSinceUntilLocalDates(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	// t0 is 2026-05-01T10:00:00Z: 12:00 in UTC+2.
	write(t, s, -3*3600, "stdout", "07Z\n")
	write(t, s, 0, "stdout", "10Z\n")
	write(t, s, 2*3600, "stdout", "12Z\n")
	for args, want := range map[[2]string]string{
		{"2026-05-01 12:00:00", "2026-05-01 13:00"}: "10Z\n",
		{"2026-05-01", "2026-05-01 11:59:59.9"}:     "07Z\n",
		{"2026-05-01T12:00:01", "2026-05-02"}:       "12Z\n",
		{"2026-05-02", "tomorrow"}:                  "",
		{"1w", "now"}:                               "",
	} {
		cmd := exec.Command(binary, "logs", "foo", "--home", home, "--since", args[0], "--until", args[1])
		cmd.Env = append(os.Environ(), "TZ=Etc/GMT-2") // two hours east of UTC
		out, err := cmd.Output()
		if err != nil || string(out) != want {
			t.Errorf("--since %q --until %q: %q %v, want %q", args[0], args[1], out, err, want)
		}
	}
}

// TestHomeMissingNamed: a --home (or $MSB_HOME) that does not exist or is
// not a directory is named as the problem, and mount refuses it before it
// creates the mountpoint.
func TestHomeMissingNamed(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	oneLineError(t, "home "+missing+" does not exist", "logs", "foo", "--home", missing)
	oneLineError(t, "home "+missing+" does not exist", "cursor", "foo", "--home", missing)
	oneLineError(t, "home "+file+" is not a directory", "logs", "foo", "--home", file)
	cmd := exec.Command(binary, "logs", "foo")
	cmd.Env = append(os.Environ(), "MSB_HOME="+missing)
	if out, err := cmd.CombinedOutput(); !strings.Contains(string(out), "home "+missing+" does not exist") || err == nil {
		t.Errorf("MSB_HOME missing: %v %q", err, out)
	}
	mnt := filepath.Join(dir, "mnt")
	oneLineError(t, "home "+missing+" does not exist", "mount", mnt, "--home", missing)
	if _, err := os.Stat(mnt); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("mount of a missing home left %s behind: %v", mnt, err)
	}
}

// TestSandboxNameRefused: a name with "/" or "..", ".", "" is refused
// without naming a path; "../sandboxes/foo" used to reach foo.
func TestSandboxNameRefused(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "secret\n")
	for _, name := range []string{"../sandboxes/foo", "..", ".", "", "a/b", "/etc"} {
		for _, cmd := range []string{"logs", "cursor", "sessions"} {
			out, errOut, code := run(t, cmd, "--home", home, name)
			if code != 2 || out != "" || !strings.Contains(errOut, "bad sandbox name") || strings.Contains(errOut, home) {
				t.Errorf("%s %q: exit %d, stdout %q, stderr %q", cmd, name, code, out, errOut)
			}
		}
	}
}

// TestHelpHasExamples: every command's --help shows examples, those of
// logs for the new flags, on stdout with status 0.
func TestHelpHasExamples(t *testing.T) {
	for cmd, wants := range map[string][]string{
		"logs":     {"Examples:", "logs foo -ft", "-n 20", "--since yesterday", "--grep", "--show-id --color-by-id", "--color always | less -R", "--id 7 -f", "--id 3,7"},
		"sessions": {"Examples:", "sessions foo --json | jq"},
		"cursor":   {"Examples:", "cursor foo --home"},
		"mount":    {"Example"},
		"unmount":  {"Example"},
		"demo":     {"Example"},
	} {
		out := mustRun(t, cmd, "--help")
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("%s --help has no %q", cmd, want)
			}
		}
	}
}

// TestUnknownCommandSuggests: a mistyped command is named, with the
// nearest command, in one line and status 2 (urfave/cli said "No help
// topic for 'lgos'").
func TestUnknownCommandSuggests(t *testing.T) {
	oneLineError(t, `unknown command "lgos"; did you mean "logs"? (see msb-logfs --help)`, "lgos", "box")
	oneLineError(t, `unknown command "mout"; did you mean "mount"?`, "mout")
	oneLineError(t, `unknown command "frobnicate" (see msb-logfs --help)`, "frobnicate")
}
