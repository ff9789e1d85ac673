package test

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPollFollowAlwaysReadable measures what poll(2) says of a follow file
// opened O_NONBLOCK at its end: go-fuse answers the kernel's first POLL
// with ENOSYS, after which the kernel reports every file of the mount
// readable at once, so an event loop that polls then reads spins on
// EAGAIN. docs/filesystem.md ("poll and select") tells each kind of
// program what to use instead; this test fails when that changes.
func TestPollFollowAlwaysReadable(t *testing.T) {
	home, _ := quietBox(t, 20)
	m := mount(t, home)
	fd, err := unix.Open(m.path("box", "stdout.follow"), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 1<<16)
	for {
		_, err := retry(func() (int, error) { return unix.Read(fd, buf) })
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 10_000)
		if err != nil || n != 1 || fds[0].Revents&unix.POLLIN == 0 {
			t.Fatalf("poll at the end: %d, %v, revents %#x; want readable at once", n, err, fds[0].Revents)
		}
		if _, err := unix.Read(fd, buf); !errors.Is(err, unix.EAGAIN) {
			t.Fatalf("read after poll said readable: %v, want EAGAIN", err)
		}
	}
}

// TestGoOpenFollow measures Go's os.Open on a follow file: the file goes
// into the runtime's poller (its reads are non-blocking, and a deadline can
// be set), so a Read at the end waits for a poll event that never comes.
// Calling Fd() once puts the file back into blocking mode: a Read at the end
// then blocks in the filesystem and returns the next line when it comes.
func TestGoOpenFollow(t *testing.T) {
	home, w := quietBox(t, 20)
	m := mount(t, home)
	f, err := os.Open(m.path("box", "stdout.follow"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		t.Fatalf("os.Open of a follow file is not in the poller (SetReadDeadline: %v): update docs/filesystem.md", err)
	}
	buf := make([]byte, 1<<16)
	var err2 error
	for err2 == nil {
		_, err2 = f.Read(buf)
	}
	if !errors.Is(err2, os.ErrDeadlineExceeded) {
		t.Fatalf("read at the end through the poller: %v, want the deadline", err2)
	}
	g, err := os.Open(m.path("box", "stdout.follow"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	_ = g.Fd() // blocking mode
	size := int64(len(mustRead(t, m.path("box", "stdout"))))
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 100)
		n, err := g.ReadAt(b[:len("GO-FD\n")], size) // ReadAt: one pread, past the snapshot
		if err != nil {
			t.Errorf("blocking read: %v", err)
		}
		got <- string(b[:n])
	}()
	mark(t, w, "GO-FD")
	select {
	case s := <-got:
		if s != "GO-FD\n" {
			t.Fatalf("blocking read after Fd(): %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a blocking read after Fd() did not return 10 s after the append")
	}
}
