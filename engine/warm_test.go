package engine

import (
	"bytes"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/index"
)

// TestFirstPassWarmsTheAskedView: the pass a cold Stat of a raw view or a
// cold open of any view runs stores every whole chunk of that view (and of
// no other view) in the render cache; a Stat of a rendered view stores
// nothing. The chunks read back as the bytes of an uncached render — also
// after the files grew and the index was extended.
func TestFirstPassWarmsTheAskedView(t *testing.T) {
	for _, v := range []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewSystem} {
		for _, open := range []bool{false, true} {
			d := newSandboxDir(t)
			writeLines(d, 0, 4000)
			sb := d.open()
			for round := range 2 {
				var err error
				if open {
					var s *Snapshot
					if s, err = sb.OpenSnapshot(v); err == nil {
						s.Close()
					}
				} else {
					_, err = sb.Stat(v)
				}
				if err != nil {
					t.Fatal(err)
				}
				x := sb.indexes[v.Stream()]
				slot := index.TrackedIndex(v)
				all, got := len(x.Cps)-1, x.Cache.ChunkCount(slot)
				switch warms := open || v.Format == FormatRaw; {
				case all < 1:
					t.Fatalf("%v: no whole chunk", v)
				case warms && got != all:
					t.Fatalf("%v open %v round %d: %d chunks cached after the pass, want %d", v, open, round, got, all)
				case !warms && round == 0 && got != 0:
					t.Fatalf("%v: a stat rendered %d chunks", v, got)
				case !warms && got >= all: // only what the last read cached
					t.Fatalf("%v round %d: a stat rendered the new chunks (%d of %d cached)", v, round, got, all)
				}
				for i := range x.Views {
					if i != slot && x.Cache.ChunkCount(i) != 0 {
						t.Fatalf("%v: the pass rendered view %v too", v, x.Views[i])
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
}

// TestStatWarmsWithinBudget: with a budget far below the view, the warming
// pass evicts its own chunks; reads render them again and are exact.
func TestStatWarmsWithinBudget(t *testing.T) {
	for _, v := range []View{ViewMerged, ViewStdout} {
		d := newSandboxDir(t)
		writeLines(d, 0, 6000)
		sb := d.openWith(func(h *Home) { h.SetCacheBudget(128 << 10) })
		s, err := sb.OpenSnapshot(v)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		x := sb.indexes[v.Stream()]
		if got, all := x.Cache.ChunkCount(index.TrackedIndex(v)), len(x.Cps)-1; got >= all || got == 0 {
			t.Fatalf("%v: %d of %d chunks kept within a 128 KiB budget", v, got, all)
		}
		if got, want := snap(t, sb, v), uncached(t, d, v); !bytes.Equal(got, want) {
			t.Fatalf("%v: a read after evictions differs from an uncached render", v)
		}
	}
}
