package test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// binary is the msb-logfs command built for the tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "msb-logfs-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Chmod(dir, 0o755) // the non-root test runs it as another user
	// Render caches and saved indexes of every mount the tests start go
	// here, not to /var/tmp; sticky and open to all, like /tmp, for the
	// non-root mount.
	cache := filepath.Join(dir, "cache")
	if err := os.Mkdir(cache, 0o777); err == nil {
		_ = os.Chmod(cache, 0o777|os.ModeSticky)
	}
	os.Setenv("MSB_LOGFS_CACHE_DIR", cache)
	binary = filepath.Join(dir, "msb-logfs")
	// Built with the race detector: the mount's own goroutines are
	// checked by every end-to-end test.
	build := exec.Command("go", "build", "-race", "-o", binary, "github.com/microsandbox/msb-logfs/cmd/msb-logfs")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build msb-logfs:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireFUSE skips the test when FUSE cannot be used here (no /dev/fuse;
// not root, or no fusermount3, for the tests that need them), unless
// MSB_LOGFS_REQUIRE_FUSE=1, as in CI. Any other failure fails the test.
func requireFUSE(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("MSB_LOGFS_REQUIRE_FUSE") == "1" {
		t.Fatalf("FUSE required (MSB_LOGFS_REQUIRE_FUSE=1): %s", why)
	}
	t.Skipf("skipping: %s (set MSB_LOGFS_REQUIRE_FUSE=1 to fail instead)", why)
}

// lockedBuffer is a bytes.Buffer safe for a writer process and a reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mountProc is a running `msb-logfs mount`.
type mountProc struct {
	t      *testing.T
	dir    string // the mountpoint
	home   string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	banner string
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited
}

// mount mounts home at a new mountpoint and waits until it is ready.
func mount(t *testing.T, home string, flags ...string) *mountProc {
	t.Helper()
	return mountAt(t, home, filepath.Join(t.TempDir(), "mnt"), flags...)
}

// mountAt mounts home at dir and waits until it is ready.
func mountAt(t *testing.T, home, dir string, flags ...string) *mountProc {
	t.Helper()
	return mountVia(t, nil, binary, home, dir, flags...)
}

// mountVia mounts home at dir by running the binary bin through the
// command line prefix (prlimit …; none if nil), and waits until it is ready.
func mountVia(t *testing.T, prefix []string, bin, home, dir string, flags ...string) *mountProc {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing")
	}
	args := append([]string{}, prefix...)
	args = append(append(args, bin, "mount", "--home", home), flags...)
	cmd := exec.Command(args[0], append(args[1:], dir)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // unmounts if the test binary dies
	m := &mountProc{t: t, dir: dir, home: home, cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = m.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.err = cmd.Wait(); close(m.exited) }()
	t.Cleanup(m.cleanup)
	banner := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		banner <- line
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case m.banner = <-banner:
	case <-time.After(15 * time.Second):
		t.Fatalf("mount not ready after 15 s; stderr: %s", m.stderr)
	}
	if !strings.Contains(m.banner, "mounted at") {
		<-m.exited // /dev/fuse exists: a failed mount is a failure, never a skip
		t.Fatalf("mount failed: %v: %s", m.err, strings.TrimSpace(m.stderr.String()))
	}
	return m
}

// cleanup kills the mount process if it still runs and detaches the mount.
func (m *mountProc) cleanup() {
	select {
	case <-m.exited:
	default:
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
	_ = unix.Unmount(m.dir, unix.MNT_DETACH)
}

// path returns a path inside the mount.
func (m *mountProc) path(elem ...string) string {
	return filepath.Join(append([]string{m.dir}, elem...)...)
}

// signal sends sig to the mount process and waits up to d for it to exit.
func (m *mountProc) signal(sig syscall.Signal, d time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := m.cmd.Process.Signal(sig); err != nil {
		return 0, err
	}
	select {
	case <-m.exited:
		return time.Since(start), m.err
	case <-time.After(d):
		return time.Since(start), fmt.Errorf("mount process still running %v after %v", d, sig)
	}
}

// isMounted reports whether the mountpoint holds a msb-logfs mount.
func isMounted(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[4] == dir && strings.Contains(l, "fuse.msb-logfs") {
			return true
		}
	}
	return false
}

// errnoOf returns the errno inside err, or 0.
func errnoOf(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return 0
}
