package cursorfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// TestPermsHoldThenRecompute: a result is held for engine.HoldFor, then
// computed again from the disk.
func TestPermsHoldThenRecompute(t *testing.T) {
	b := newBox(t, "box", 3, 0)
	openPath(t, b.dir)
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	c := newPerms(b.home)
	c.now = func() time.Time { return now }
	stdout := lookupFile("stdout")
	p, err := c.File("box", stdout)
	if err != nil || p.Mode != 0o444 {
		t.Fatalf("first: %+v %v, want 0444", p, err)
	}
	must(t, os.Chmod(filepath.Join(b.dir, "sandboxes", "box", "logs", engine.ExecLogName), 0o600))
	now = now.Add(engine.HoldFor - time.Millisecond)
	if p, _ := c.File("box", stdout); p.Mode != 0o444 {
		t.Errorf("within the hold interval: %o, want the held 0444", p.Mode)
	}
	now = now.Add(time.Millisecond)
	if p, _ := c.File("box", stdout); p.Mode != 0o400 {
		t.Errorf("after the hold interval: %o, want 0400", p.Mode)
	}
	now = now.Add(-time.Hour) // a clock set back holds nothing
	must(t, os.Chmod(filepath.Join(b.dir, "sandboxes", "box", "logs", engine.ExecLogName), 0o644))
	if p, _ := c.File("box", stdout); p.Mode != 0o444 {
		t.Errorf("after the clock went back: %o, want 0444", p.Mode)
	}
	if p, err := c.Root(); err != nil || p.Mode != 0o555 {
		t.Errorf("root: %+v %v", p, err)
	}
	if p, err := c.Sandbox("box"); err != nil || p.Mode != 0o555 {
		t.Errorf("sandbox: %+v %v", p, err)
	}
}

// TestPermsBounded: however many names are asked for, permCache keeps at most
// maxPermEntries results.
func TestPermsBounded(t *testing.T) {
	b := newBox(t, "box", 1, 0)
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	c := newPerms(b.home)
	c.now = func() time.Time { return now }
	for i := range 3 * maxPermEntries {
		if _, err := c.Sandbox(fmt.Sprintf("nosuch-%d", i)); err == nil {
			t.Fatal("a missing sandbox has permissions")
		}
		if i%1000 == 0 {
			now = now.Add(engine.HoldFor)
		}
		if n := c.held(); n > maxPermEntries {
			t.Fatalf("%d results held, bound %d", n, maxPermEntries)
		}
	}
}
