package test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
	"golang.org/x/sys/unix"
)

// statFormat is what GNU stat prints of a file for these tests: size,
// mtime and ctime to the nanosecond.
const statFormat = "%s %.9Y %.9Z"

// statLine is st as stat -c statFormat prints it.
func statLine(st *unix.Stat_t) string {
	return fmt.Sprintf("%d %d.%09d %d.%09d", st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}

// lineProc is a process the test talks to in lines: it writes to its
// standard input and reads its output line by line.
type lineProc struct {
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *lockedBuffer
}

// startLineProc starts argv; the test's cleanup kills it.
func startLineProc(t *testing.T, argv ...string) *lineProc {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	p := &lineProc{stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewReader(out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.in.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

// line returns the process's next output line, failing after 30 s.
func (p *lineProc) line(t *testing.T) string {
	t.Helper()
	got := make(chan string, 1)
	go func() { l, _ := p.out.ReadString('\n'); got <- strings.TrimSuffix(l, "\n") }()
	select {
	case l := <-got:
		return l
	case <-time.After(30 * time.Second):
		t.Fatalf("no output line for 30 s; stderr: %s", p.stderr)
		return ""
	}
}

// ask writes an empty line to the process and returns its next line.
func (p *lineProc) ask(t *testing.T) string {
	t.Helper()
	if _, err := io.WriteString(p.in, "\n"); err != nil {
		t.Fatal(err)
	}
	return p.line(t)
}

// startFdShell starts a bash that holds path open on its descriptor 5
// and, at each line written to it, prints stat -L of /dev/fd/5 (forcing
// the kernel to ask the filesystem), then, the first time only,
// wc -c <&5.
func startFdShell(t *testing.T, path string) *lineProc {
	t.Helper()
	script := `exec 5<"$1" || exit 1; echo opened
read -r _ || exit; stat --cached=never -L -c '` + statFormat + `' /dev/fd/5; wc -c <&5
while read -r _; do stat --cached=never -L -c '` + statFormat + `' /dev/fd/5; done`
	s := startLineProc(t, "bash", "-c", script, "bash", path)
	if got := s.line(t); got != "opened" {
		t.Fatalf("the shell did not open %s: %q", path, got)
	}
	return s
}

// TestGapsSnapshotFstatFromAnotherProcess: a snapshot open in one process
// (this test) and in a shell (exec 5<merged). After the sandbox appends,
// another process's stat -L of /proc/PID/fd/N and the shell's stat -L of
// /dev/fd/5 (and its wc -c <&5) give the size, mtime and ctime fixed at
// the open, while a stat by name shows the new state; after the sandbox
// directory is moved away they are still answered, unchanged.
func TestGapsSnapshotFstatFromAnotherProcess(t *testing.T) {
	home := t.TempDir()
	w, err := msbwriter.Create(home, "box", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	writeNumberedLines(t, w, 0, 100)
	var disk unix.Stat_t
	if err := unix.Stat(filepath.Join(w.LogsDir(), "exec.log"), &disk); err != nil {
		t.Fatal(err)
	}
	m := mount(t, home)
	name := m.path("box", "merged")
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var open unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &open); err != nil {
		t.Fatal(err)
	}
	size := len(numberedMergedRange(0, 100))
	if open.Size != int64(size) || open.Mtim != disk.Mtim {
		t.Fatalf("fstat at open: %s; want size %d and exec.log's mtime %d.%09d", statLine(&open), size, disk.Mtim.Sec, disk.Mtim.Nsec)
	}
	fixed := statLine(&open)
	shell := startFdShell(t, name)
	viaProc := "stat --cached=never -L -c '" + statFormat + "' " + q(fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), f.Fd()))

	time.Sleep(20 * time.Millisecond) // the append gets a later mtime than the open's
	writeNumberedLines(t, w, 100, 200)
	grown := len(numberedMergedRange(0, 200))
	waitFor(t, 5*time.Second, "stat by name to show the append", func() bool {
		return strings.HasPrefix(sh(t, 5*time.Second, "stat -c '"+statFormat+"' "+q(name)), fmt.Sprint(grown, " "))
	})
	if byName := sh(t, 5*time.Second, "stat -c '"+statFormat+"' "+q(name)); strings.Fields(byName)[1] == strings.Fields(fixed)[1] {
		t.Fatalf("stat by name after the append: %q, the mtime of the open %q: the test cannot tell a time that moved", byName, fixed)
	}
	if got := strings.TrimSpace(sh(t, 5*time.Second, viaProc)); got != fixed {
		t.Errorf("another process's stat -L of this process's descriptor: %q, want %q (fixed at open)", got, fixed)
	}
	if got := shell.ask(t); got != fixed {
		t.Errorf("the shell's stat -L /dev/fd/5: %q, want %q (fixed at its open)", got, fixed)
	}
	if got := shell.line(t); got != fmt.Sprint(size) {
		t.Errorf("the shell's wc -c <&5: %q, want %d", got, size)
	}

	if err := os.Rename(sandboxDir(home, "box"), filepath.Join(home, "moved")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the moved sandbox to leave the mount", func() bool {
		_, err := os.Stat(m.path("box"))
		return os.IsNotExist(err)
	})
	if got := strings.TrimSpace(sh(t, 5*time.Second, viaProc)); got != fixed {
		t.Errorf("after the sandbox moved away, another process's stat -L: %q, want %q", got, fixed)
	}
	if got := shell.ask(t); got != fixed {
		t.Errorf("after the sandbox moved away, the shell's stat -L /dev/fd/5: %q, want %q", got, fixed)
	}
	var after unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &after); err != nil || statLine(&after) != fixed {
		t.Errorf("after the sandbox moved away, fstat: %s, %v; want %q", statLine(&after), err, fixed)
	}
}
