package test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSIGTERMWithBlockedReaders: SIGTERM with three readers blocked in
// follow files unmounts within 2 s, ends the readers, and exits 0.
func TestSIGTERMWithBlockedReaders(t *testing.T) {
	home, _ := quietBox(t, 20)
	m := mount(t, home)
	var readers []*reader
	for _, f := range []string{"merged.follow", "stdout.follow", "system.follow"} {
		r := startReader(t, "cat", m.path("box", f))
		waitBlocked(t, r.cmd.Process.Pid, m.path("box", f))
		readers = append(readers, r)
	}
	d, err := m.signal(syscall.SIGTERM, 2*time.Second)
	if err != nil {
		t.Fatalf("mount process after SIGTERM: %v (stderr %s)", err, m.stderr)
	}
	t.Logf("mount process exited %v after SIGTERM", d.Round(time.Millisecond))
	for _, r := range readers {
		if _, err := r.waitExit(2*time.Second - d); err != nil {
			t.Fatalf("reader after SIGTERM: %v", err)
		}
	}
	if isMounted(m.dir) {
		t.Fatal("still mounted after SIGTERM")
	}
}

// TestSIGTERMWithTail: a tail -f keeps its file open through the end of
// file; the mount is detached and the process still exits 0 within 2 s.
func TestSIGTERMWithTail(t *testing.T) {
	home, _ := quietBox(t, 20)
	m := mount(t, home)
	tail := startReader(t, "tail", "-f", m.path("box", "merged.follow"))
	tail.next(t, 5*time.Second)
	d, err := m.signal(syscall.SIGTERM, 2*time.Second)
	if err != nil {
		t.Fatalf("mount process after SIGTERM: %v (stderr %s)", err, m.stderr)
	}
	t.Logf("mount process exited %v after SIGTERM", d.Round(time.Millisecond))
	if isMounted(m.dir) {
		t.Fatal("still mounted after SIGTERM")
	}
	if _, err := tail.waitExit(3 * time.Second); err == nil {
		t.Log("tail ended")
	}
}

// TestRemountAfterKill9: after kill -9 of the mount process the mountpoint
// is a dead mount; a new mount on it succeeds.
func TestRemountAfterKill9(t *testing.T) {
	home := corpusHome(t, "box", 32<<10)
	m := mount(t, home)
	if _, err := m.signal(syscall.SIGKILL, 2*time.Second); err != nil && !strings.Contains(err.Error(), "killed") {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.dir); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("after kill -9, stat of the mountpoint: %v; want ENOTCONN (a stale mount)", err)
	}
	m2 := mountAt(t, home, m.dir)
	if got := sh(t, 5*time.Second, "ls "+q(m2.dir)); got != "box\n" {
		t.Fatalf("ls after remount: %q", got)
	}
	if _, err := m2.signal(syscall.SIGINT, 2*time.Second); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
}

// TestUnmountCommandWithBlockedReader: `msb-logfs unmount` of a busy mount
// detaches it; the mount process ends its readers and exits 0.
func TestUnmountCommandWithBlockedReader(t *testing.T) {
	home, _ := quietBox(t, 5)
	m := mount(t, home)
	cat := startReader(t, "cat", m.path("box", "merged.follow"))
	cat.next(t, 5*time.Second)
	waitBlocked(t, cat.cmd.Process.Pid, m.path("box", "merged.follow"))
	sh(t, 5*time.Second, q(binary)+" unmount "+q(m.dir))
	if _, err := cat.waitExit(2 * time.Second); err != nil {
		t.Fatalf("reader after unmount: %v", err)
	}
	select {
	case <-m.exited:
		if m.err != nil {
			t.Fatalf("mount process: %v", m.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("mount process still running 2 s after unmount")
	}
}

// TestMountErrors: a mount that cannot work says why in one line, without
// a stack trace, and exits non-zero.
func TestMountErrors(t *testing.T) {
	oneLine := func(what, stderr string, err error, want string) {
		t.Helper()
		msg := strings.TrimSpace(stderr)
		if err == nil || strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") || !strings.Contains(msg, want) {
			t.Errorf("%s: %v, stderr %q; want one line with %q", what, err, msg, want)
		}
	}
	_, stderr, err := shErr(5*time.Second, q(binary)+" mount --home "+q(t.TempDir())+" /proc/self/nope/mnt")
	oneLine("bad mountpoint", stderr, err, "mountpoint")

	// /dev/fuse hidden by a tmpfs over /dev, in a private mount namespace.
	script := fmt.Sprintf("mount -t tmpfs none /dev && exec %s mount --home %s %s", q(binary), q(t.TempDir()), q(t.TempDir()))
	if _, _, err := shErr(5*time.Second, "unshare -m true"); err != nil {
		t.Logf("no unshare -m here (%v): the missing /dev/fuse case is not run", err)
		return
	}
	_, stderr, err = shErr(5*time.Second, "unshare -m sh -c "+q(script))
	oneLine("no /dev/fuse", stderr, err, "/dev/fuse is missing")
}

// TestDaemon: mount --daemon returns once the mount is ready; unmount ends
// the background process.
func TestDaemon(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing")
	}
	home := corpusHome(t, "box", 32<<10)
	dir := t.TempDir() + "/mnt"
	out, stderr, err := shErr(10*time.Second, fmt.Sprintf("%s mount --daemon --home %s %s", q(binary), q(home), q(dir)))
	if err != nil {
		requireFUSE(t, fmt.Sprintf("mount --daemon: %v: %s", err, stderr))
	}
	var pid int
	if i := strings.Index(out, "(pid "); i < 0 {
		t.Fatalf("no pid in the banner %q", out)
	} else if _, err := fmt.Sscanf(out[i:], "(pid %d)", &pid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if running(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = unix.Unmount(dir, unix.MNT_DETACH)
	})
	if got := sh(t, 5*time.Second, "ls "+q(dir)); got != "box\n" {
		t.Fatalf("ls right after mount --daemon: %q", got)
	}
	sh(t, 5*time.Second, q(binary)+" unmount "+q(dir))
	waitFor(t, 3*time.Second, "the daemon to exit", func() bool { return !running(pid) })
}

// running reports whether process pid runs (and is not a zombie).
func running(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// TestDemo: the demo mounts a live sandbox, and Ctrl-C unmounts it and
// removes its temporary home.
func TestDemo(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing")
	}
	dir := t.TempDir() + "/mnt"
	demo := startReader(t, binary, "demo", "--rate", "200", dir)
	banner := demo.next(t, 15*time.Second)
	if !strings.Contains(banner, "mounted at "+dir) {
		requireFUSE(t, "demo did not mount: "+banner)
	}
	home, _, _ := strings.Cut(strings.TrimPrefix(banner, "msb-logfs: "), "/sandboxes mounted at")
	cat := startReader(t, "cat", filepath.Join(dir, "demo", "merged.follow"))
	for range 20 {
		cat.next(t, 5*time.Second)
	}
	if got := sh(t, 5*time.Second, "ls "+q(filepath.Join(dir, "demo"))); !strings.Contains(got, "merged.jsonl") {
		t.Fatalf("ls of the demo sandbox: %q", got)
	}
	if err := demo.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.waitExit(3 * time.Second); err != nil {
		t.Fatalf("demo after Ctrl-C: %v", err)
	}
	if _, err := cat.waitExit(2 * time.Second); err != nil {
		t.Fatalf("follower after the demo ended: %v", err)
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) || isMounted(dir) {
		t.Fatalf("after the demo: home %s: %v; mounted %v", home, err, isMounted(dir))
	}
}
