package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// inotifyInstances counts this process's inotify descriptors.
func inotifyInstances(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == "anon_inode:inotify" {
			n++
		}
	}
	return n
}

// TestOneInotifyInstance: however many streams of however many sandboxes a
// Home follows, the process holds one inotify instance, and every follower
// still wakes on an append.
func TestOneInotifyInstance(t *testing.T) {
	before := inotifyInstances(t)
	home := newHomeDir(t)
	dirs := make([]*tdir, 5)
	for i := range dirs {
		dirs[i] = mkSandbox(t, home, fmt.Sprintf("sb%d", i))
		dirs[i].exec(jl(0, "stdout", "start\n"))
		dirs[i].runtime(rl(0, "boot"))
	}
	h := openTestHome(t, home)
	var follows []*Follow
	for _, d := range dirs {
		sb, err := h.Sandbox(filepath.Base(filepath.Dir(d.logs)))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewStderr, ViewOutput, ViewSystem} {
			for range 5 {
				f, err := sb.OpenFollow(v)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				follows = append(follows, f)
			}
		}
	}
	if got := inotifyInstances(t) - before; got != 1 {
		t.Fatalf("%d followers hold %d inotify instances, want 1", len(follows), got)
	}
	changed := follows[0].Changed()
	dirs[0].exec(jl(1, "stdout", "more\n"))
	select {
	case <-changed:
	case <-time.After(pollEvery / 2):
		t.Fatal("no wake-up from the watcher within half the poll period")
	}
	if grew, err := follows[0].Advance(); err != nil || !grew {
		t.Fatalf("Advance after an append = %v, %v", grew, err)
	}
}
