package cursorfs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// rootHome returns an FS over a home of n sandboxes (sb0…), on a clock
// the test moves, and a function that makes one more sandbox.
func rootHome(t *testing.T, n int) (f *FS, now *time.Time, add func(name string)) {
	t.Helper()
	dir := t.TempDir()
	add = func(name string) {
		must(t, os.MkdirAll(filepath.Join(dir, "sandboxes", name, "logs"), 0o755))
	}
	for i := range n {
		add(fmt.Sprintf("sb%d", i))
	}
	h, err := engine.OpenHome(dir)
	must(t, err)
	t.Cleanup(func() { _ = h.Close() })
	f = New(h)
	t.Cleanup(f.Shutdown)
	clock := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	f.listings = newListings(func() time.Time { return clock })
	return f, &clock, add
}

// TestRootStatListsOncePerInterval: a stat of the root lists the
// sandboxes at most once per rootRelist, with 10 sandboxes as with 1,000:
// what a stat of the mount point costs does not grow with the host.
func TestRootStatListsOncePerInterval(t *testing.T) {
	const stats = 200
	for _, n := range []int{10, 1000} {
		f, now, _ := rootHome(t, n)
		root := f.Root()
		for range stats {
			a, err := root.Stat()
			must(t, err)
			if a.Subdirs != n {
				t.Fatalf("%d sandboxes: the root counts %d", n, a.Subdirs)
			}
			*now = now.Add(time.Millisecond) // 200 stats in 200 ms < rootRelist
		}
		if got := f.root.listed(); got != 1 {
			t.Errorf("%d sandboxes: %d stats of the root in %v listed it %d times, want once", n, stats, stats*time.Millisecond, got)
		}
		*now = now.Add(rootRelist)
		_, err := root.Stat()
		must(t, err)
		if got := f.root.listed(); got != 2 {
			t.Errorf("%d sandboxes: a stat %v after the listing: %d listings, want 2", n, rootRelist, got)
		}
	}
}

// TestRootStatShowsChange: a new sandbox moves the root's time and link
// count at the first stat past rootRelist, or at once after a readdir that
// lists it; a stat that finds the listing unchanged moves nothing.
func TestRootStatShowsChange(t *testing.T) {
	f, now, add := rootHome(t, 2)
	root := f.Root()
	before, err := root.Stat()
	must(t, err)
	*now = now.Add(rootRelist / 2)
	add("new1")
	if a, err := root.Stat(); err != nil || a.Subdirs != 2 || !a.ModTime.Equal(before.ModTime) {
		t.Fatalf("stat within rootRelist of the last listing: %+v, %v; want the record (2 sandboxes, %v)", a, err, before.ModTime)
	}
	*now = now.Add(rootRelist / 2)
	moved := *now
	if a, err := root.Stat(); err != nil || a.Subdirs != 3 || !a.ModTime.Equal(moved) || !a.ChangeTime.Equal(moved) {
		t.Fatalf("stat past rootRelist: %+v, %v; want 3 sandboxes at %v", a, err, moved)
	}
	*now = now.Add(time.Second)
	if a, err := root.Stat(); err != nil || a.Subdirs != 3 || !a.ModTime.Equal(moved) {
		t.Fatalf("stat of an unchanged root: %+v, %v; want the time %v kept", a, err, moved)
	}
	add("new2")
	*now = now.Add(time.Millisecond)
	listedAt := *now
	ents, err := root.List()
	must(t, err)
	if len(ents) != 4 {
		t.Fatalf("readdir: %d entries, want 4", len(ents))
	}
	if a, err := root.Stat(); err != nil || a.Subdirs != 4 || !a.ModTime.Equal(listedAt) {
		t.Fatalf("stat right after a readdir that showed a new sandbox: %+v, %v; want 4 at %v", a, err, listedAt)
	}
}
