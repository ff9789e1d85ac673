package test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// deletedUnder counts pid's descriptors of deleted files under dir: log
// files a rotation dropped while the mount holds them.
func deletedUnder(t *testing.T, pid int, dir string) int {
	t.Helper()
	n := 0
	for _, target := range fdsUnder(t, pid, dir) {
		if strings.HasSuffix(target, " (deleted)") {
			n++
		}
	}
	return n
}

// followStep writes 150 stdout lines, numbered from seq, and a runtime
// line stamped a second in the past (written late: its batch cannot be
// appended to the follower's last part), then rotates exec.log as
// microsandbox does.
func followStep(t *testing.T, w *msbwriter.Sandbox, seq, step int) {
	t.Helper()
	for i := seq; i < seq+150; i++ {
		c := msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: fmt.Appendf(nil, "seq %06d %s\n", i, strings.Repeat("z", 100)), ID: 1, HasID: true}
		if err := w.Exec(c); err != nil {
			t.Fatal(err)
		}
	}
	late := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	if err := w.Runtime(fmt.Sprintf("%s INFO runtime: late step %03d", late, step)); err != nil {
		t.Fatal(err)
	}
	if err := w.Rotate(); err != nil {
		t.Fatal(err)
	}
}

// TestFollowHoldsNoDroppedFiles: cat merged.follow across 30 rotations
// done as microsandbox does them. The mount lets go of each dropped log
// file once the follower has read past its bytes: after every rotation its
// deleted descriptors come back to at most one file set (the sandbox's
// state, 7), where before they grew by one per rotation. cat sees every
// line once, in order; a second handle of merged.follow, read as it grows,
// reads its old bytes again at their offsets (pread) and gets the same
// bytes after their files were dropped.
func TestFollowHoldsNoDroppedFiles(t *testing.T) {
	const rotations, lineSets = 30, msbwriter.ChainLen + 2
	home := t.TempDir()
	w, err := msbwriter.Create(home, "box", msbwriter.Options{RotateAt: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	seq := 0
	for step := range msbwriter.ChainLen - 1 {
		followStep(t, w, seq, step)
		seq += 150
	}
	m := mount(t, home, "--cache-dir", t.TempDir())
	pid, logs := m.cmd.Process.Pid, filepath.Join(home, "sandboxes")
	cat := startReader(t, "cat", m.path("box", "merged.follow"))
	f, err := os.Open(m.path("box", "merged.follow"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Fd() // blocking reads: a read at the end waits in the filesystem
	var shown []byte
	next, lateSeen := 0, 0
	expectUpTo := func(last int) {
		t.Helper()
		for next <= last {
			l := cat.next(t, 10*time.Second)
			if strings.Contains(l, "runtime: late step") {
				lateSeen++
				continue
			}
			if want := fmt.Sprintf(" seq %06d ", next); !strings.Contains(l, want) {
				t.Fatalf("cat: %.60q, want the line of%s", l, want)
			}
			next++
		}
	}
	expectUpTo(seq - 1)
	shown = readGrown(t, f, shown)
	most := 0
	for step := msbwriter.ChainLen - 1; step < msbwriter.ChainLen-1+rotations; step++ {
		followStep(t, w, seq, step)
		seq += 150
		expectUpTo(seq - 1)
		shown = readGrown(t, f, shown)
		waitFor(t, 10*time.Second, "the follower's dropped files to be let go", func() bool {
			n := deletedUnder(t, pid, logs)
			most = max(most, n)
			return n <= lineSets
		})
	}
	mark(t, w, fmt.Sprintf("seq %06d last", seq)) // after the last late runtime line
	expectUpTo(seq)
	t.Logf("after each of %d rotations: at most %d deleted log files held by the mount (bound %d)", rotations, most, lineSets)
	again := make([]byte, len(shown))
	for off := 0; off < len(shown); {
		n, err := f.ReadAt(again[off:min(off+64<<10, len(shown))], int64(off))
		if err != nil && err != io.EOF {
			t.Fatalf("pread at %d of %d: %v", off, len(shown), err)
		}
		off += n
	}
	if !bytes.Equal(again, shown) {
		t.Errorf("a pread of merged.follow's first %d bytes differs from what it showed", len(shown))
	}
	if lateSeen != rotations+msbwriter.ChainLen-1 {
		t.Errorf("cat saw %d late runtime lines, want %d", lateSeen, rotations+msbwriter.ChainLen-1)
	}
	if n := deletedUnder(t, pid, logs); n > lineSets {
		t.Errorf("after the re-read: the mount holds %d deleted log files", n)
	}
}

// readGrown reads what a follow handle holds beyond shown, up to the size
// fstat gives it (a read at the size would wait), and returns shown with it.
func readGrown(t *testing.T, f *os.File, shown []byte) []byte {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for off := int64(len(shown)); off < fi.Size(); {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), fi.Size()-off)], off)
		if err != nil && err != io.EOF {
			t.Fatalf("read at %d of %d: %v", off, fi.Size(), err)
		}
		if n == 0 {
			t.Fatalf("read at %d of %d: no bytes", off, fi.Size())
		}
		shown = append(shown, buf[:n]...)
		off += int64(n)
	}
	return shown
}

// TestFollowReReadWithoutCache: with no render cache (--cache-size 0), a
// follower still lets dropped files go; a pread back into their bytes
// fails with EIO, never with other bytes, while the bytes of the files
// still in the chain read as shown.
func TestFollowReReadWithoutCache(t *testing.T) {
	home := t.TempDir()
	w, err := msbwriter.Create(home, "box", msbwriter.Options{RotateAt: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	followStep(t, w, 0, 0)
	m := mount(t, home, "--cache-size", "0")
	f, err := os.Open(m.path("box", "merged.follow"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Fd()
	shown := readGrown(t, f, nil)
	for step := 1; step <= 2*msbwriter.ChainLen; step++ {
		followStep(t, w, step*150, step)
		grown := len(shown)
		waitFor(t, 10*time.Second, "merged.follow to grow", func() bool {
			shown = readGrown(t, f, shown)
			return len(shown) > grown
		})
	}
	logs := filepath.Join(home, "sandboxes")
	waitFor(t, 10*time.Second, "the dropped files to be let go", func() bool {
		return deletedUnder(t, m.cmd.Process.Pid, logs) <= msbwriter.ChainLen+2
	})
	buf := make([]byte, 100)
	if n, err := f.ReadAt(buf, 0); errnoOf(err) != syscall.EIO || n != 0 {
		t.Errorf("pread at 0 of released bytes = %d, %v; want 0, EIO", n, err)
	}
	end := int64(len(shown)) - 100
	if n, err := f.ReadAt(buf, end); err != nil || n != 100 || !bytes.Equal(buf, shown[end:]) {
		t.Errorf("pread at %d = %d, %v: %q; want %q", end, n, err, buf[:n], shown[end:])
	}
}
