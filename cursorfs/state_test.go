package cursorfs

import (
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
