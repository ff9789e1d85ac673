package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/microsandbox/msb-logfs/msbwriter"
	"golang.org/x/sys/unix"
)

// These tests run the real binary for msb logs' --grep, --color,
// --show-id and --color-by-id, on a pipe and on a real terminal (a pty).

// chunk writes one exec.log chunk of session id (none when id is 0).
func chunk(t *testing.T, s *msbwriter.Sandbox, sec int, src, data string, id uint64) {
	t.Helper()
	if err := s.Exec(msbwriter.Chunk{Time: at(sec), Source: src, Data: []byte(data), ID: id, HasID: id != 0}); err != nil {
		t.Fatal(err)
	}
}

// sessions makes a sandbox foo whose entries have several ids, stderr, a
// system entry and a line split across two entries.
func sessions(t *testing.T) string {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	chunk(t, s, 1, "stdout", "one\n", 1)
	chunk(t, s, 2, "stderr", "two\n", 1)
	chunk(t, s, 3, "system", "sys\n", 0)
	chunk(t, s, 4, "stderr", "thr", 2)
	chunk(t, s, 5, "stdout", "ee\nfour\n", 2)
	chunk(t, s, 6, "stdout", "five\n", 12)
	return home
}

// TestColorWhere: --color always colours stderr red and system dim, each
// line on its own and reset before its newline, in the raw and the text
// format; stdout and output keep the terminal's colour.
func TestColorWhere(t *testing.T) {
	home := sessions(t)
	got := mustRun(t, "logs", "foo", "--home", home, "--source", "all", "--color", "always")
	want := "one\n\x1b[31mtwo\x1b[0m\n\x1b[2msys\x1b[0m\n\x1b[31mthr\x1b[0mee\nfour\nfive\n"
	if got != want {
		t.Errorf("raw:\n got %q\nwant %q", got, want)
	}
	got = mustRun(t, "logs", "foo", "--home", home, "--color", "always", "-t", "-n", "3")
	want = fmt.Sprintf("\x1b[31m%s stderr thr\x1b[0m\n%s stdout ee\n%s stdout four\n%s stdout five\n",
		stamp(4), stamp(5), stamp(5), stamp(6))
	if got != want {
		t.Errorf("-t:\n got %q\nwant %q", got, want)
	}
}

// stamp is the text format's time of at(sec).
func stamp(sec int) string { return at(sec).UTC().Format("2006-01-02T15:04:05.000Z") }

// TestColorByID: --color-by-id gives each session id the colour of
// idColors[id%10] (ids 2 and 12 share one), bold for stderr; an entry
// without an id keeps its source's colour. --show-id puts "[id:N] " at the
// start of each line, inside the colour; a line that another entry began
// gets no second prefix.
func TestColorByID(t *testing.T) {
	home := sessions(t)
	got := mustRun(t, "logs", "foo", "--home", home, "--source", "all", "--color=always", "--color-by-id", "--show-id")
	want := "\x1b[33m[id:1] one\x1b[0m\n\x1b[33;1m[id:1] two\x1b[0m\n\x1b[2msys\x1b[0m\n" +
		"\x1b[34;1m[id:2] thr\x1b[0m\x1b[34mee\x1b[0m\n\x1b[34m[id:2] four\x1b[0m\n\x1b[34m[id:12] five\x1b[0m\n"
	if got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

// TestShowID: "[id:N] " on each line of an entry with an id, raw and -t,
// none on system lines; --json is unchanged (it has the id).
func TestShowID(t *testing.T) {
	home := sessions(t)
	got := mustRun(t, "logs", "foo", "--home", home, "--source", "all", "--show-id")
	if want := "[id:1] one\n[id:1] two\nsys\n[id:2] three\n[id:2] four\n[id:12] five\n"; got != want {
		t.Errorf("raw:\n got %q\nwant %q", got, want)
	}
	got = mustRun(t, "logs", "foo", "--home", home, "-t", "--show-id", "--source", "system,stdout", "-n", "2")
	if want := fmt.Sprintf("[id:2] %s stdout ee\n[id:2] %s stdout four\n[id:12] %s stdout five\n", stamp(5), stamp(5), stamp(6)); got != want {
		t.Errorf("-t:\n got %q\nwant %q", got, want)
	}
	plain := mustRun(t, "logs", "foo", "--home", home, "--json")
	if got := mustRun(t, "logs", "foo", "--home", home, "--json", "--show-id", "--color", "always", "--color-by-id"); got != plain {
		t.Errorf("--json with --show-id and colour:\n got %q\nwant %q", got, plain)
	}
}

// TestColorAuto: under --color auto (the default) colour appears on a
// terminal, and not with $NO_COLOR, TERM=dumb, --no-color, --json, or
// when stdout is a pipe.
func TestColorAuto(t *testing.T) {
	home := sessions(t)
	red := "\x1b[31mtwo\x1b[0m"
	if out := onTerminal(t, nil, "logs", "foo", "--home", home); !strings.Contains(out, red) {
		t.Errorf("terminal: no red stderr in %q", out)
	}
	for _, c := range []struct {
		env  []string
		args []string
	}{
		{[]string{"NO_COLOR=1"}, nil},
		{[]string{"TERM=dumb"}, nil},
		{nil, []string{"--no-color"}},
		{nil, []string{"--color", "never"}},
		{nil, []string{"--json"}},
		{[]string{"NO_COLOR=1"}, []string{"--color", "always", "--no-color"}},
	} {
		out := onTerminal(t, c.env, append([]string{"logs", "foo", "--home", home}, c.args...)...)
		if strings.Contains(out, "\x1b[") || !strings.Contains(out, "two") {
			t.Errorf("terminal %v %v: %q, want no colour", c.env, c.args, out)
		}
	}
	if out := mustRun(t, "logs", "foo", "--home", home, "--source", "all"); strings.Contains(out, "\x1b[") {
		t.Errorf("pipe: colour in %q", out)
	}
	// --color always wins over $NO_COLOR, as no-color.org asks of a flag.
	if out := onTerminal(t, []string{"NO_COLOR=1"}, "logs", "foo", "--home", home, "--color", "always"); !strings.Contains(out, red) {
		t.Errorf("--color always with NO_COLOR: %q", out)
	}
}

// onTerminal runs the binary with its stdout a pty, TERM=xterm and no
// NO_COLOR unless env says otherwise, and returns what it printed, the
// terminal's "\r\n" read as "\n".
func onTerminal(t *testing.T, env []string, args ...string) string {
	t.Helper()
	master, slave := openPTY(t)
	defer master.Close()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "TERM=xterm"), env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = slave, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close() // the child holds its copy: EOF (EIO) once it exits
	var out bytes.Buffer
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(&out, master)
		copied <- err
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%q: %v: %s", args, err, stderr.String())
	}
	if err := <-copied; err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

// openPTY opens a pseudo-terminal pair.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pty: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// TestGrep: --grep keeps the entries whose body matches a Go regexp, also
// for the last N (-n counts matching entries), and the cursor still moves
// over what did not match.
func TestGrep(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "ERROR one\n")
	write(t, s, 2, "stdout", "ok\n")
	write(t, s, 3, "stderr", "error two\n")
	write(t, s, 4, "stdout", "fine\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--grep", "ERROR"}, "ERROR one\n"},
		{[]string{"--grep", "(?i)error"}, "ERROR one\nerror two\n"},
		{[]string{"--grep", "(?i)error", "-n", "1"}, "error two\n"},
		{[]string{"--grep", "(?i)error", "-n", "5"}, "ERROR one\nerror two\n"},
		{[]string{"--grep", "^ok\n$"}, "ok\n"},
		{[]string{"--grep", "nothing"}, ""},
	} {
		if got := mustRun(t, append([]string{"logs", "foo", "--home", home}, c.args...)...); got != c.want {
			t.Errorf("%q: %q, want %q", c.args, got, c.want)
		}
	}
	end := mustRun(t, "cursor", "foo", "--home", home)
	if got := mustRun(t, "logs", "foo", "--home", home, "--grep", "nothing", "--show-cursor"); got != "-- cursor: "+end {
		t.Errorf("cursor after no match: %q, want %q", got, end)
	}
	list := parseJSONL(t, mustRun(t, "logs", "foo", "--home", home, "--json", "--grep", "two"))
	if len(list) != 1 || list[0].D != "error two\n" {
		t.Errorf("--json --grep two: %+v", list)
	}
}
