package main

import (
	"encoding/base64"
	le "encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLogsStampOnlyTextLines: text lines that are only a timestamp (alone,
// with trailing blanks, with an ANSI reset, coloured, after leading blanks)
// are shown as entries with an empty body by `logs --source all`, and
// `cursor` and resuming work (issue 7 item 1: a stack trace and exit 2).
func TestLogsStampOnlyTextLines(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "out\n")
	lines := []string{
		"2026-05-01T10:00:03Z",
		"2026-05-01T10:00:03Z \t ",
		"2026-05-01T10:00:04Z \x1b[0m",
		"\x1b[32m2026-05-01T10:00:05Z\x1b[0m",
		"   2026-05-01T10:00:06Z",
	}
	for _, l := range lines {
		if err := s.Runtime(l); err != nil {
			t.Fatal(err)
		}
		if err := s.Kernel(l); err != nil {
			t.Fatal(err)
		}
	}
	list := parseJSONL(t, mustRun(t, "logs", "--home", home, "--source", "all", "--json", "foo"))
	if len(list) != 1+2*len(lines) {
		t.Fatalf("%d entries, want %d", len(list), 1+2*len(lines))
	}
	for _, e := range list[1:] {
		if e.D != "\n" || e.S != "system" {
			t.Errorf("entry %+v: want an empty system body", e)
		}
	}
	end := strings.TrimSpace(mustRun(t, "cursor", "--home", home, "foo"))
	if end != list[len(list)-1].Cursor {
		t.Errorf("cursor %q, want the last entry's %q", end, list[len(list)-1].Cursor)
	}
	got := mustRun(t, "logs", "--home", home, "--source", "all", "--timestamps", "--after-cursor", list[len(list)-2].Cursor, "foo")
	if want := "2026-05-01T10:00:06.000Z system \n"; got != want {
		t.Errorf("after the last but one cursor: %q, want %q", got, want)
	}
}

// TestLogsIrregularLogFiles: `exec.log.1` a FIFO and `runtime.log` a
// directory are skipped (one warning each) and the rest is shown (issue 7
// item 4: `logs` exited 1 with "not a regular file").
func TestLogsIrregularLogFiles(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "shown\n")
	if err := s.Kernel("2026-05-01T10:00:02Z kernel line"); err != nil {
		t.Fatal(err)
	}
	dir := s.LogsDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "exec.log.1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "runtime.log"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "logs", "--home", home, "--source", "all", "foo")
	if code != 0 || out != "shown\nkernel line\n" {
		t.Fatalf("logs: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if strings.Count(errOut, "\n") != 2 || !strings.Contains(errOut, "exec.log.1: a FIFO") || !strings.Contains(errOut, "runtime.log: a directory") {
		t.Errorf("stderr %q: want one warning per skipped file", errOut)
	}
	if _, errOut, code := run(t, "cursor", "--home", home, "foo"); code != 0 {
		t.Errorf("cursor: exit %d: %s", code, errOut)
	}
}

// TestLogsAbsurdCursorOffsets: a cursor naming exec.log's inode with an
// offset of 2^63, past the end of the file or inside a line is invalid:
// exit 2 with one line (issue 7 item 3: a panic, or silently taken).
func TestLogsAbsurdCursorOffsets(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "a\n")
	write(t, s, 2, "stdout", "b\n")
	fi, err := os.Stat(filepath.Join(s.LogsDir(), "exec.log"))
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	for name, off := range map[string]uint64{
		"2^63":          1 << 63,
		"2^64-1":        1<<64 - 1,
		"past the end":  uint64(fi.Size()) + 1,
		"inside a line": 3,
	} {
		c := cursorOf(ino, off)
		out, errOut, code := run(t, "logs", "--home", home, "--after-cursor", c, "foo")
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "invalid cursor") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and one line", name, code, out, errOut)
		}
	}
}

// cursorOf encodes a one-position cursor (exec only).
func cursorOf(gen, off uint64) string {
	raw := make([]byte, 17)
	raw[0] = 1
	le.LittleEndian.PutUint64(raw[1:], gen)
	le.LittleEndian.PutUint64(raw[9:], off)
	return base64.StdEncoding.EncodeToString(raw)
}

// TestLogsLeapSecondsAndFarYears: exec lines stamped with a leap second or
// a year outside 1678–2262 are shown, in order, with their times (issue 7
// item 6: they were skipped).
func TestLogsLeapSecondsAndFarYears(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	for _, l := range []string{
		`{"t":"0001-02-03T04:05:06.789Z","s":"stdout","d":"far past\n"}`,
		`{"t":"2016-12-31T23:59:59.9Z","s":"stdout","d":"before\n"}`,
		`{"t":"2017-01-01T00:59:60.5+01:00","s":"stdout","d":"leap\n"}`,
		`{"t":"2017-01-01T00:00:00Z","s":"stdout","d":"after\n"}`,
		`{"t":"9999-12-31T23:59:59.999Z","s":"stdout","d":"far future\n"}`,
	} {
		if err := s.ExecLine([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	got := mustRun(t, "logs", "--home", home, "--timestamps", "foo")
	want := "0001-02-03T04:05:06.789Z stdout far past\n" +
		"2016-12-31T23:59:59.900Z stdout before\n" +
		"2016-12-31T23:59:60.500Z stdout leap\n" +
		"2017-01-01T00:00:00.000Z stdout after\n" +
		"9999-12-31T23:59:59.999Z stdout far future\n"
	if got != want {
		t.Errorf("logs -t:\n%s\nwant:\n%s", got, want)
	}
}
