package cursorfs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

func TestSnapshotFixedWhileWritingAndRotating(t *testing.T) {
	b := newBox(t, "box", 500, 64<<10)
	s, err := openSnapshot(b.sb, engine.ViewStdout)
	must(t, err)
	defer s.Close()
	size, mt := s.Size(), s.ModTime()
	if want := stdout(0, 500); size != int64(len(want)) {
		t.Fatalf("size %d, want %d", size, len(want))
	}
	half := make([]byte, size/2)
	n, err := s.ReadAt(half, 0)
	must(t, err)
	half = half[:n]

	time.Sleep(10 * time.Millisecond) // a later mtime
	b.write(3000)                     // rotates several times: the open files leave the chain
	must(t, b.w.Rotate())

	rest := readAllFrom(t, s, int64(len(half)))
	got := append(half, rest...)
	if !bytes.Equal(got, stdout(0, 500)) {
		t.Fatalf("snapshot bytes changed: %d bytes, want %d", len(got), len(stdout(0, 500)))
	}
	if again := readAll(t, s); !bytes.Equal(again, got) {
		t.Fatal("a re-read from 0 differs")
	}
	if s.Size() != size || !s.ModTime().Equal(mt) {
		t.Fatalf("size/time moved: %d %v, was %d %v", s.Size(), s.ModTime(), size, mt)
	}
	if n, err := s.ReadAt(make([]byte, 10), size); n != 0 || err != nil {
		t.Fatalf("read at the end: %d, %v", n, err)
	}
}

func readAllFrom(t *testing.T, s *snapshotHandle, off int64) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 4093)
	for {
		n, err := s.ReadAt(buf, off+int64(len(out)))
		must(t, err)
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

func TestSnapshotEqualsEngineForEveryView(t *testing.T) {
	b := newBox(t, "box", 500, 8<<10)
	for _, f := range Files {
		if f.Kind != KindSnapshot {
			continue
		}
		s, err := openSnapshot(b.sb, f.View)
		must(t, err)
		got := readAll(t, s)
		s.Close()
		if want := engineBytes(t, b.sb, f.View); !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, engine renders %d", f.Name, len(got), len(want))
		}
	}
}

func TestCursorFile(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	c, err := openCursor(b.sb)
	must(t, err)
	end, err := b.sb.EndCursor()
	must(t, err)
	got := readAll(t, c)
	if string(got) != end.String()+"\n" || c.Size() != cursorSize {
		t.Fatalf("cursor file %q (size %d), want %q", got, c.Size(), end.String()+"\n")
	}
}

func TestBootError(t *testing.T) {
	b := newBox(t, "box", 1, 0)
	if _, _, err := statBootError(b.home, "box"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat of a missing boot-error.json: %v", err)
	}
	const doc = `{"error":"kernel panic"}`
	must(t, b.w.BootError(doc))
	size, _, err := statBootError(b.home, "box")
	must(t, err)
	f, err := openBootError(b.home, "box")
	must(t, err)
	if got := readAll(t, f); string(got) != doc || size != int64(len(doc)) {
		t.Fatalf("boot error %q size %d", got, size)
	}
}

func TestBootErrorSymlinkNotFollowed(t *testing.T) {
	b := newBox(t, "box", 1, 0)
	secret := filepath.Join(t.TempDir(), "secret")
	must(t, os.WriteFile(secret, []byte("secret"), 0o600))
	must(t, os.Symlink(secret, filepath.Join(b.sb.LogsDir(), engine.BootErrorName)))
	if _, _, err := statBootError(b.home, "box"); err == nil {
		t.Fatal("stat followed a symbolic link")
	}
	if _, err := openBootError(b.home, "box"); err == nil {
		t.Fatal("open followed a symbolic link")
	}
}

func TestErrno(t *testing.T) {
	for _, c := range []struct {
		err  error
		want syscall.Errno
	}{
		{nil, 0},
		{syscall.EAGAIN, syscall.EAGAIN},
		{engine.ErrInvalidCursor, syscall.EINVAL},
		{errBadPosition, syscall.EINVAL},
		{engine.ErrNoSandbox, syscall.ENOENT},
		{engine.ErrMissedRotation, syscall.EIO},
	} {
		if got := Errno(c.err); got != c.want {
			t.Errorf("Errno(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestFilesTable(t *testing.T) {
	listed := map[string]bool{}
	for _, f := range Files {
		listed[f.Name] = f.Listed
		if lookupFile(f.Name) < 0 {
			t.Errorf("lookupFile(%q) fails", f.Name)
		}
	}
	for _, n := range []string{"merged", "stdout", "stderr", "output", "system", "merged.jsonl", "cursor", "boot-error.json"} {
		if !listed[n] {
			t.Errorf("%s is not listed", n)
		}
	}
	for _, n := range []string{"merged.follow", "stdout.follow", "stderr.follow", "output.follow", "system.follow", "seek"} {
		if v, ok := listed[n]; !ok || v {
			t.Errorf("%s: present %v, listed %v", n, ok, v)
		}
	}
	if lookupFile("nope") != -1 {
		t.Error("lookupFile of an unknown name")
	}
}
