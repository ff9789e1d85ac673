package fs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/microsandbox/msb-logfs/cursorfs"
	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

func TestTgidOfThread(t *testing.T) {
	if got := tgid(os.Getpid()); got != os.Getpid() {
		t.Fatalf("tgid of the main thread: %d, want %d", got, os.Getpid())
	}
	done := make(chan int)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		done <- tgid(syscall.Gettid())
	}()
	if got := <-done; got != os.Getpid() {
		t.Fatalf("tgid of a thread: %d, want %d", got, os.Getpid())
	}
}

func TestFuseFlags(t *testing.T) {
	for in, want := range map[cursorfs.OpenFlags]uint32{
		0:                 0,
		cursorfs.DirectIO: fuse.FOPEN_DIRECT_IO,
		cursorfs.DirectIO | cursorfs.Stream | cursorfs.NonSeekable: fuse.FOPEN_DIRECT_IO | fuse.FOPEN_STREAM | fuse.FOPEN_NONSEEKABLE,
	} {
		if got := fuseFlags(in); got != want {
			t.Errorf("fuseFlags(%#x) = %#x, want %#x", in, got, want)
		}
	}
}

// testMount is an in-process mount of a home with one sandbox "box".
type testMount struct {
	dir  string
	w    *msbwriter.Sandbox
	fsys *cursorfs.FS
	srv  *Server
	n    int
}

func mountBox(t *testing.T) *testMount {
	t.Helper()
	return mountBoxWith(t, Options{DirectMount: true})
}

// mountBoxWith mounts a home with one sandbox "box" with options o.
func mountBoxWith(t testing.TB, o Options) *testMount {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil || os.Geteuid() != 0 {
		if os.Getenv("MSB_LOGFS_REQUIRE_FUSE") == "1" {
			t.Fatalf("FUSE required: /dev/fuse %v, euid %d", err, os.Geteuid())
		}
		t.Skip("in-process mounts need /dev/fuse and root")
	}
	home := t.TempDir()
	w, err := msbwriter.Create(home, "box", msbwriter.Options{RotateAt: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	h, err := engine.OpenHome(home)
	if err != nil {
		t.Fatal(err)
	}
	m := &testMount{dir: t.TempDir(), w: w, fsys: cursorfs.New(h)}
	m.srv, err = Mount(m.dir, m.fsys, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.fsys.Shutdown()
		if err := m.srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
			_ = unix.Unmount(m.dir, unix.MNT_DETACH)
		}
		h.Close()
		w.Close()
	})
	m.write(t, 100)
	return m
}

func (m *testMount) write(t testing.TB, n int) {
	t.Helper()
	for range n {
		c := msbwriter.Chunk{Source: "stdout", Data: fmt.Appendf(nil, "line %05d\n", m.n)}
		if err := m.w.Exec(c); err != nil {
			t.Fatal(err)
		}
		m.n++
	}
}

func (m *testMount) path(name string) string { return filepath.Join(m.dir, "box", name) }

// TestFstatIsTheHandles: fstat of an open snapshot keeps its size while a
// stat by name from another process shows the growth.
func TestFstatIsTheHandles(t *testing.T) {
	m := mountBox(t)
	f, err := os.Open(m.path("stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi0, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m.write(t, 10)
	var now int64
	deadline := time.Now().Add(2 * time.Second)
	for now <= fi0.Size() && time.Now().Before(deadline) {
		out, err := exec.Command("stat", "-c", "%s", m.path("stdout")).Output()
		if err != nil {
			t.Fatal(err)
		}
		now, _ = strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	}
	fi1, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi1.Size() != fi0.Size() || now != fi0.Size()+10*int64(len("line 00000\n")) {
		t.Fatalf("fstat %d -> %d, stat by name %d", fi0.Size(), fi1.Size(), now)
	}
	data, err := io.ReadAll(f)
	if err != nil || int64(len(data)) != fi0.Size() {
		t.Fatalf("read %d bytes (%v), fstat says %d", len(data), err, fi0.Size())
	}
}

// TestConcurrentUse drives every kind of file at once while the sandbox
// writes, under the race detector, then shuts down with a blocked reader.
func TestConcurrentUse(t *testing.T) {
	m := mountBox(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	follow := openBlocking(t, m.path("stdout.follow"))
	defer follow.Close()
	var taken atomic.Int64 // bytes the follower has read

	wg.Add(1)
	go func() { // reads until Shutdown gives end of file
		defer wg.Done()
		if _, err := io.Copy(countWriter{&taken}, follow); err != nil {
			errs <- fmt.Errorf("follow: %w", err)
		}
	}()
	for _, name := range []string{"merged", "merged.jsonl", "system", "cursor"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := os.ReadFile(m.path(name)); err != nil {
					errs <- fmt.Errorf("%s: %w", name, err)
					return
				}
				if _, err := os.ReadDir(filepath.Join(m.dir, "box")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	seekUse(t, m)
	m.write(t, 2000)
	// Shut down once the follower has taken in every line and waits in a
	// read at the end.
	all := int64(m.n * len("line 00000\n"))
	waitUntil(t, 10*time.Second, "the follower to take in every line and block", func() bool {
		return taken.Load() == all && m.srv.ReadsInFlight() > 0
	})
	m.fsys.Shutdown()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// openBlocking opens a follow file for blocking reads. os.Open would not
// do: the kernel reports FUSE files as pollable, so Go puts the descriptor
// in non-blocking mode and, after EAGAIN, waits for a readiness event that
// a go-fuse server never sends (it answers POLL with ENOSYS).
func openBlocking(t *testing.T, p string) *os.File {
	t.Helper()
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), p)
}

func seekUse(t *testing.T, m *testMount) {
	t.Helper()
	s, err := os.OpenFile(m.path("seek"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write([]byte("bogus\n")); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("bogus seek: %v", err)
	}
	if _, err := s.Write([]byte("end\n")); err != nil {
		t.Fatal(err)
	}
	m.write(t, 1)
	data, err := io.ReadAll(s)
	if err != nil || !bytes.Contains(data, []byte(`"d":"line 00100\n"`)) {
		t.Fatalf("seek after end: %q, %v", data, err)
	}
}

// countWriter counts the bytes written to it.
type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// waitUntil polls cond every 5 ms until it holds, failing after d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkStat measures a stat of merged through the mount, as each
// tool's stat, ls -l and tail -f's poll makes it: without --allow-other
// (the reference) and with it, where each stat also derives the owner and
// mode from the disk.
func BenchmarkStat(b *testing.B) {
	for _, c := range []struct {
		name string
		o    Options
	}{{"default", Options{DirectMount: true}}, {"allow-other", Options{DirectMount: true, AllowOther: true}}} {
		b.Run(c.name, func(b *testing.B) {
			m := mountBoxWith(b, c.o)
			for b.Loop() {
				if _, err := os.Stat(m.path("merged")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestOldStatesForgotten: a name stat-ed at state after state leaves no
// trail of nodes: the kernel forgets a state whose entry the next lookup
// replaced, and the mount lets its node go.
func TestOldStatesForgotten(t *testing.T) {
	m := mountBox(t)
	for range 30 {
		m.write(t, 1)
		time.Sleep(engine.HoldFor + 10*time.Millisecond) // a new state each time
		if _, err := os.Stat(m.path("stdout")); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d states known after 30", m.srv.KnownStates())
	waitUntil(t, 5*time.Second, "the old states to be forgotten", func() bool { return m.srv.KnownStates() <= 2 })
	f, err := os.Open(m.path("stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m.write(t, 1)
	time.Sleep(engine.HoldFor + 10*time.Millisecond)
	if _, err := os.Stat(m.path("stdout")); err != nil {
		t.Fatal(err)
	}
	if n := m.srv.KnownStates(); n < 2 {
		t.Errorf("%d states known while one is open and another was stat-ed, want 2", n)
	}
}
