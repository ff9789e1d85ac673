package engine

import (
	"bytes"
	"testing"
)

// cachedChunks counts the chunks of slot stored in c.
func cachedChunks(c *renderCache, slot int) int {
	if c == nil {
		return 0
	}
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	n := 0
	for k := range c.chunks {
		if k.slot == slot {
			n++
		}
	}
	return n
}

// TestStatWarmsTheAskedView: the pass a cold Stat runs stores every whole
// chunk of the asked view (and of no other view) in the render cache, and
// those chunks read back as the bytes of an uncached render — also after
// the files grew and the index was extended.
func TestStatWarmsTheAskedView(t *testing.T) {
	for _, v := range []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewSystem} {
		d := newSandboxDir(t)
		writeLines(d, 0, 4000)
		sb := d.open()
		for round := range 2 {
			if _, err := sb.Stat(v); err != nil {
				t.Fatal(err)
			}
			x := sb.indexes[v.stream()]
			slot := trackedIndex(v)
			if got, want := cachedChunks(x.cache, slot), len(x.cps)-1; want < 1 || got != want {
				t.Fatalf("%v round %d: %d chunks cached after a cold stat, want %d", v, round, got, want)
			}
			for i := range x.views {
				if i != slot && cachedChunks(x.cache, i) != 0 {
					t.Fatalf("%v: stat rendered view %v too", v, x.views[i])
				}
			}
			if got, want := snap(t, sb, v), uncached(t, d, v); !bytes.Equal(got, want) {
				t.Fatalf("%v round %d: the warmed read differs from an uncached render", v, round)
			}
			writeLines(d, 4000+round*2000, 2000)
			expireHold(sb)
		}
	}
}

// TestStatWarmsWithinBudget: with a budget far below the view, the warming
// pass evicts its own chunks; reads render them again and are exact.
func TestStatWarmsWithinBudget(t *testing.T) {
	for _, v := range []View{ViewMerged, ViewStdout} {
		d := newSandboxDir(t)
		writeLines(d, 0, 6000)
		sb := d.openWith(func(h *Home) { h.SetCacheBudget(128 << 10) })
		if _, err := sb.Stat(v); err != nil {
			t.Fatal(err)
		}
		x := sb.indexes[v.stream()]
		if got, all := cachedChunks(x.cache, trackedIndex(v)), len(x.cps)-1; got >= all || got == 0 {
			t.Fatalf("%v: %d of %d chunks kept within a 128 KiB budget", v, got, all)
		}
		if got, want := snap(t, sb, v), uncached(t, d, v); !bytes.Equal(got, want) {
			t.Fatalf("%v: a read after evictions differs from an uncached render", v)
		}
	}
}
