package cursorfs

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// TestPinnedState: a snapshot's Stat is Fixed and its node pinned to it
// answers Stat without the sandbox, has the state's own inode number, and
// opens with KeepCache while the state is shown; once the sandbox has
// written, an open of the old state fails with ESTALE and a new lookup
// pins a new state. A follow file is never pinned.
func TestPinnedState(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	n, err := nodeAt(b.fs, "box", "stdout")
	must(t, err)
	a, err := n.Stat()
	must(t, err)
	if !a.Fixed || a.Valid != 0 {
		t.Fatalf("stdout by name: %+v, want Fixed and no validity", a)
	}
	p := n.Pin(a)
	if got, err := p.Stat(); err != nil || got.Size != a.Size || !got.ModTime.Equal(a.ModTime) || got.Valid != stateValid {
		t.Fatalf("pinned Stat: %+v %v", got, err)
	}
	if p.Ino() == n.Ino() {
		t.Fatal("a state has the name's inode number")
	}
	h, err := p.Open(syscall.O_RDONLY)
	must(t, err)
	if h.Flags() != KeepCache {
		t.Errorf("open of the shown state: flags %#x, want KeepCache", h.Flags())
	}
	must(t, h.Close())

	time.Sleep(engine.HoldFor + 10*time.Millisecond) // past the held state
	b.write(5)
	time.Sleep(engine.HoldFor + 10*time.Millisecond)
	if _, err := p.Open(syscall.O_RDONLY); Errno(err) != syscall.ESTALE {
		t.Fatalf("open of a state no longer shown: %v, want ESTALE", err)
	}
	if got, err := p.Stat(); err != nil || got.Size != a.Size {
		t.Fatalf("pinned Stat after the sandbox wrote: %+v %v, want the state's size %d", got, err, a.Size)
	}
	a2, err := n.Stat()
	must(t, err)
	if p2 := n.Pin(a2); a2.Size <= a.Size || p2.Ino() == p.Ino() {
		t.Fatalf("new state: size %d (was %d), inode %d (was %d)", a2.Size, a.Size, p2.Ino(), p.Ino())
	}

	f, err := nodeAt(b.fs, "box", "stdout.follow")
	must(t, err)
	fa, err := f.Stat()
	must(t, err)
	if fa.Fixed || f.Pin(fa) != f {
		t.Fatal("a follow file was pinned")
	}
}

// TestPinnedStateRewriteSameSizeAndMtime: exec.log rewritten in place to
// the same size with its mtime put back is a new state: the view's size
// and time are the same, but its files' change time moved, so a lookup
// pins another inode (whose pages the kernel has not cached) and an open
// of the old state fails with ESTALE instead of letting the kernel serve
// the old bytes.
func TestPinnedStateRewriteSameSizeAndMtime(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	n, err := nodeAt(b.fs, "box", "stdout")
	must(t, err)
	a, err := n.Stat()
	must(t, err)
	p := n.Pin(a)

	exec := filepath.Join(b.dir, "sandboxes", "box", "logs", engine.ExecLogName)
	fi, err := os.Stat(exec)
	must(t, err)
	old, err := os.ReadFile(exec)
	must(t, err)
	rewritten := bytes.Replace(old, []byte("line 000003"), []byte("LINE 000003"), 1)
	if bytes.Equal(rewritten, old) {
		t.Fatal("exec.log has no line 3 to rewrite")
	}
	time.Sleep(engine.HoldFor + 10*time.Millisecond) // past the held state, and a later ctime
	must(t, os.WriteFile(exec, rewritten, 0o644))
	must(t, os.Chtimes(exec, fi.ModTime(), fi.ModTime()))

	a2, err := n.Stat()
	must(t, err)
	if a2.Size != a.Size || !a2.ModTime.Equal(a.ModTime) {
		t.Fatalf("after the rewrite: size %d at %v, want the same %d at %v", a2.Size, a2.ModTime, a.Size, a.ModTime)
	}
	if p2 := n.Pin(a2); p2.Ino() == p.Ino() {
		t.Fatal("a rewrite at the same size and mtime kept the state's inode")
	}
	if _, err := p.Open(syscall.O_RDONLY); Errno(err) != syscall.ESTALE {
		t.Fatalf("open of the state before the rewrite: %v, want ESTALE", err)
	}
	h, err := n.Pin(a2).Open(syscall.O_RDONLY)
	must(t, err)
	defer h.Close()
	if got := readAll(t, h.(*snapshotHandle)); !bytes.Contains(got, []byte("LINE 000003")) {
		t.Errorf("the new state reads the old bytes: %.200q", got)
	}
}

// TestNameValid: a snapshot's or the cursor's Stat lets the kernel keep
// its name's entry for the rest of the state's hold but half of HoldFor,
// never longer; the pinned node keeps that; a file whose state is not
// held (a follow file) lets it keep none.
func TestNameValid(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	for _, name := range []string{"merged", "cursor"} {
		n, err := nodeAt(b.fs, "box", name)
		must(t, err)
		a, err := n.Stat()
		must(t, err)
		if a.NameValid <= 0 || a.NameValid > engine.HoldFor/2 {
			t.Fatalf("%s's stat: NameValid %v, want within (0, HoldFor/2]", name, a.NameValid)
		}
		if got, _ := n.Pin(a).Stat(); got.NameValid != a.NameValid {
			t.Errorf("%s's pinned node's NameValid %v, want the stat's %v", name, got.NameValid, a.NameValid)
		}
		time.Sleep(engine.HoldFor / 2)
		if a2, err := n.Stat(); err != nil || a2.NameValid != 0 {
			t.Errorf("%s's stat half a hold later: NameValid %v (%v), want 0: an entry must not outlive the hold", name, a2.NameValid, err)
		}
		time.Sleep(engine.HoldFor / 2) // the next name's stat starts a hold
	}
	f, err := nodeAt(b.fs, "box", "merged.follow")
	must(t, err)
	if fa, err := f.Stat(); err != nil || fa.NameValid != 0 {
		t.Errorf("merged.follow's stat: NameValid %v (%v), want 0", fa.NameValid, err)
	}
	for held, want := range map[time.Duration]time.Duration{
		0: 0, engine.HoldFor / 2: 0, engine.HoldFor: engine.HoldFor / 2, engine.HoldFor/2 + time.Millisecond: time.Millisecond,
	} {
		if got := nameValid(held); got != want {
			t.Errorf("nameValid(%v) = %v, want %v", held, got, want)
		}
	}
}
