package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLogsCursorFileCheckedFirst: a --cursor-file that cannot be updated
// fails the run with status 2 and one line before anything is printed, so
// `>> backup` never gets output that the next run prints again.
func TestLogsCursorFileCheckedFirst(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "a\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "isdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, cf := range map[string]string{
		"missing directory":  filepath.Join(dir, "nosuch", "foo.cursor"),
		"parent is a file":   filepath.Join(file, "foo.cursor"),
		"cursor is a folder": filepath.Join(dir, "isdir"),
	} {
		for _, extra := range [][]string{nil, {"-f"}, {"--json", "--tail", "1"}} {
			args := append(append([]string{"logs", "--home", home, "--cursor-file", cf}, extra...), "foo")
			out, errOut, code := runFor(t, 10*time.Second, args...)
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "cursor-file") {
				t.Errorf("%s %v: exit %d, stdout %q, stderr %q; want exit 2, nothing printed, one line", name, extra, code, out, errOut)
			}
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 2 {
		t.Errorf("files left beside the cursor files: %v %v", entries, err)
	}
	// A writable one leaves only the cursor file, no temporary file.
	cf := filepath.Join(dir, "ok.cursor")
	if got := mustRun(t, "logs", "--home", home, "--cursor-file", cf, "foo"); got != "a\n" {
		t.Fatalf("writable cursor file: %q", got)
	}
	if _, err := os.Stat(cf + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
}

// TestLogsCursorFileReadOnlyDirectory: a --cursor-file in a directory the
// user cannot write fails before anything is printed (as user nobody, in a
// directory of root's).
func TestLogsCursorFileReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("MSB_LOGFS_REQUIRE_FUSE") == "1" { // CI: root, so this runs
			t.Fatal("MSB_LOGFS_REQUIRE_FUSE=1 but not root")
		}
		t.Skip("needs root to run the command as another user")
	}
	dir, err := os.MkdirTemp("", "msb-logfs-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	home, ro := filepath.Join(dir, "home"), filepath.Join(dir, "ro")
	s := newSandbox(t, home, "foo")
	write(t, s, 1, "stdout", "a\n")
	for _, p := range []string{filepath.Dir(binary), dir, ro} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(binary, "logs", "--home", home, "--cursor-file", filepath.Join(ro, "foo.cursor"), "foo")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := waitExit(t, cmd, 10*time.Second)
	if code != 2 || stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "permission denied") {
		t.Errorf("read-only directory: exit %d, stdout %q, stderr %q; want exit 2, nothing printed, one line", code, stdout.String(), stderr.String())
	}
}

// runFor runs the binary like run, killing it after d.
func runFor(t *testing.T, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := waitExit(t, cmd, d)
	return stdout.String(), stderr.String(), code
}

// waitExit waits up to d for cmd and returns its exit status; a process
// killed by a signal gives 128+signal, as in a shell.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v still running after %v", cmd.Args, d)
	}
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// TestLogsBrokenPipeExitsZero runs the binary with its stdout a pipe whose
// reader goes away, and checks the binary's own status (not a shell's or
// head's): 0, with nothing on stderr, as docs/cli.md says. With -f too,
// where the reader leaves while it follows.
func TestLogsBrokenPipeExitsZero(t *testing.T) {
	home := t.TempDir()
	s := newSandbox(t, home, "foo")
	for i := range 3 {
		write(t, s, i, "stdout", "line\n")
	}
	cf := filepath.Join(t.TempDir(), "foo.cursor")
	for _, extra := range [][]string{nil, {"--json", "--cursor-file", cf}, {"-t", "--tail", "2"}} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close() // nobody will ever read
		cmd := exec.Command(binary, append(append([]string{"logs", "--home", home}, extra...), "foo")...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = w, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if code := waitExit(t, cmd, 10*time.Second); code != 0 || stderr.Len() != 0 {
			t.Errorf("%v into a closed pipe: exit %d, stderr %q; want 0 and nothing", extra, code, stderr.String())
		}
	}
	if _, err := os.Stat(cf); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cursor file written though nothing was: %v", err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "logs", "--home", home, "-f", "foo")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if line, err := bufio.NewReader(r).ReadString('\n'); err != nil || line != "line\n" {
		t.Fatalf("-f: first line %q, %v", line, err)
	}
	r.Close()
	write(t, s, 10, "stdout", "after the reader left\n")
	if code := waitExit(t, cmd, 10*time.Second); code != 0 || stderr.Len() != 0 {
		t.Errorf("-f whose reader left: exit %d, stderr %q; want 0 and nothing", code, stderr.String())
	}
}
