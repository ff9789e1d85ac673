package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// These tests run the real binary on logs written the way microsandbox
// writes them.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "msb-logfs-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "msb-logfs")
	// Caches and saved indexes of the commands the tests run go here, not
	// to /var/tmp.
	os.Setenv("MSB_LOGFS_CACHE_DIR", dir)
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func newSandbox(t *testing.T, home, name string) *msbwriter.Sandbox {
	t.Helper()
	s, err := msbwriter.Create(home, name, msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func write(t *testing.T, s *msbwriter.Sandbox, sec int, src, data string) {
	t.Helper()
	if err := s.Exec(msbwriter.Chunk{Time: at(sec), Source: src, Data: []byte(data), ID: 1, HasID: src != "system"}); err != nil {
		t.Fatal(err)
	}
}

// run runs the binary and returns stdout, stderr and the exit status.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	return out
}

type jsonEntry struct {
	T, S, D, E, Cursor string
	ID                 *uint64
}

func parseJSONL(t *testing.T, out string) []jsonEntry {
	t.Helper()
	var list []jsonEntry
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e jsonEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		list = append(list, e)
	}
	return list
}

func TestLogsDefaultSourcesInOrder(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "one\n")
	write(t, s, 2, "system", "lifecycle\n")
	write(t, s, 3, "stderr", "two\n")
	write(t, s, 4, "output", "three")
	write(t, s, 5, "stdout", "\n")
	if err := s.Runtime(at(2).Format(time.RFC3339Nano) + " runtime line"); err != nil {
		t.Fatal(err)
	}
	got := mustRun(t, "logs", "--home", home, "foo")
	if want := "one\ntwo\nthree\n"; got != want {
		t.Fatalf("default sources = %q, want %q", got, want)
	}
	got = mustRun(t, "logs", "--home", home, "--source", "all", "--timestamps", "foo")
	want := "2026-05-01T10:00:01.000Z stdout one\n" +
		"2026-05-01T10:00:02.000Z system lifecycle\n" +
		"2026-05-01T10:00:02.000Z system runtime line\n" +
		"2026-05-01T10:00:03.000Z stderr two\n" +
		"2026-05-01T10:00:04.000Z output three\n" +
		"2026-05-01T10:00:05.000Z stdout \n"
	if got != want {
		t.Fatalf("--source all -t:\n%s\nwant:\n%s", got, want)
	}
}

func TestLogsRotatedFileFirst(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "old\n")
	if err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	write(t, s, 2, "stdout", "new\n")
	if got := mustRun(t, "logs", "--home", home, "foo"); got != "old\nnew\n" {
		t.Fatalf("got %q", got)
	}
}

func TestLogsResumeAfterCursor(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	for i, d := range []string{"a\n", "b\n", "c\n"} {
		write(t, s, i, "stdout", d)
	}
	list := parseJSONL(t, mustRun(t, "logs", "--home", home, "--json", "foo"))
	if len(list) != 3 {
		t.Fatalf("got %d entries", len(list))
	}
	got := mustRun(t, "logs", "--home", home, "--after-cursor", list[1].Cursor, "foo")
	if got != "c\n" {
		t.Fatalf("after 2nd cursor: %q, want only the 3rd", got)
	}
	end := strings.TrimSpace(mustRun(t, "cursor", "--home", home, "foo"))
	if end != list[2].Cursor {
		t.Fatalf("cursor command %q, want last entry's %q", end, list[2].Cursor)
	}
	if got := mustRun(t, "logs", "--home", home, "--after-cursor", end, "foo"); got != "" {
		t.Fatalf("after end cursor: %q", got)
	}
}

func TestLogsTailSinceUntil(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	for i := range 10 {
		write(t, s, i, "stdout", fmt.Sprintf("%d\n", i))
	}
	if got := mustRun(t, "logs", "--home", home, "--tail", "3", "foo"); got != "7\n8\n9\n" {
		t.Fatalf("--tail 3: %q", got)
	}
	got := mustRun(t, "logs", "--home", home, "--since", at(4).Format(time.RFC3339), "--until", "2026-05-01T10:00:06Z", "foo")
	if got != "4\n5\n6\n" {
		t.Fatalf("--since/--until: %q", got)
	}
	if got := mustRun(t, "logs", "--home", home, "--since", "5m", "foo"); got != "" {
		t.Fatalf("--since 5m on old logs: %q", got)
	}
}

func TestLogsSinceFilteredEverythingEndCursor(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "old\n")
	out := mustRun(t, "logs", "--home", home, "--since", "1h", "--show-cursor", "foo")
	c, ok := strings.CutPrefix(strings.TrimSpace(out), "-- cursor: ")
	if !ok {
		t.Fatalf("no cursor line in %q", out)
	}
	if got := mustRun(t, "logs", "--home", home, "--after-cursor", c, "foo"); got != "" {
		t.Fatalf("end cursor resumed to %q", got)
	}
	write(t, s, 2, "stdout", "new\n")
	if got := mustRun(t, "logs", "--home", home, "--after-cursor", c, "foo"); got != "new\n" {
		t.Fatalf("end cursor then append: %q", got)
	}
}

func TestLogsBadInputExit2(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "x\n")
	other := t.TempDir()
	o := newSandbox(t, other, "bar")
	write(t, o, 1, "stdout", "y\n")
	foreign := strings.TrimSpace(mustRun(t, "cursor", "--home", other, "bar"))
	for name, args := range map[string][]string{
		"unknown sandbox": {"logs", "--home", home, "nope"},
		"bad since":       {"logs", "--home", home, "--since", "last tuesday", "foo"},
		"bad until":       {"logs", "--home", home, "--until", "2026-13-01T00:00:00Z", "foo"},
		"bad source":      {"logs", "--home", home, "--source", "stdin", "foo"},
		"bad cursor":      {"logs", "--home", home, "--after-cursor", "not a cursor", "foo"},
		"short cursor":    {"logs", "--home", home, "--after-cursor", "AQID", "foo"},
		"foreign cursor":  {"logs", "--home", home, "--after-cursor", foreign, "foo"},
		"cursor unknown":  {"cursor", "--home", home, "nope"},
	} {
		out, errOut, code := run(t, args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2, one line on stderr", name, code, out, errOut)
		}
	}
}

func TestLogsCursorFile(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "a\n")
	cf := filepath.Join(t.TempDir(), "foo.cursor")
	if got := mustRun(t, "logs", "--home", home, "--cursor-file", cf, "foo"); got != "a\n" {
		t.Fatalf("first run: %q", got)
	}
	write(t, s, 2, "stdout", "b\n")
	if err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	write(t, s, 3, "stdout", "c\n")
	if got := mustRun(t, "logs", "--home", home, "--cursor-file", cf, "foo"); got != "b\nc\n" {
		t.Fatalf("second run: %q", got)
	}
	if got := mustRun(t, "logs", "--home", home, "--cursor-file", cf, "foo"); got != "" {
		t.Fatalf("third run: %q", got)
	}
	if err := os.WriteFile(cf, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, code := run(t, "logs", "--home", home, "--cursor-file", cf, "foo"); code != 2 {
		t.Fatalf("garbage cursor file: exit %d, want 2", code)
	}
}

// TestLogsFollow follows across a rotation and stops on SIGINT with status 0.
func TestLogsFollow(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "before\n")
	f := follow(t, "logs", "--home", home, "-f", "foo")
	cmd, lines, expect := f.cmd, f.lines, f.expect
	expect("before")
	write(t, s, 2, "stdout", "appended\n")
	expect("appended")
	write(t, s, 3, "stdout", "pre-rotation\n")
	if err := s.Rotate(); err != nil {
		t.Fatal(err)
	}
	write(t, s, 4, "stdout", "post-rotation\n")
	expect("pre-rotation")
	expect("post-rotation")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v", err)
	}
	if extra, ok := <-lines; ok {
		t.Fatalf("unexpected line %q", extra)
	}
}

// TestLogsBrokenPipe ends quietly when the reader goes away.
func TestLogsBrokenPipe(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	for i := range 2000 {
		write(t, s, i, "stdout", strings.Repeat("x", 200)+"\n")
	}
	cmd := exec.Command("sh", "-c", fmt.Sprintf("%s logs --home %s foo | head -c 10 >/dev/null", binary, home))
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("broken pipe: %v %q", err, out)
	}
}
