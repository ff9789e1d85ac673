package engine

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// writeLines appends n exec lines from ms on, a millisecond apart, and a
// runtime line every 100.
func writeLines(d *tdir, from, n int) {
	var b, r strings.Builder
	for i := from; i < from+n; i++ {
		b.WriteString(jl(int64(i), "stdout", fmt.Sprintf("line %06d \x1b[1mbold\x1b[0m é\n", i)))
		if i%100 == 0 {
			r.WriteString(rl(int64(i), fmt.Sprintf("runtime %d", i)) + "\n")
		}
	}
	d.exec(b.String())
	d.appendRaw(RuntimeLogName, r.String())
}

// uncached renders view v of the sandbox at d with a fresh Home that keeps
// no render cache.
func uncached(t *testing.T, d *tdir, v View) []byte {
	t.Helper()
	h := openTestHome(t, d.home)
	h.SetCacheDir("")
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	return snap(t, sb, v)
}

// TestRenderCacheKeepsEverySnapshotsBytes: reads served from the render
// cache equal a fresh render, also after a late line with an early
// timestamp re-merged part of the index; a snapshot opened before that
// re-merge still reads its own bytes.
func TestRenderCacheKeepsEverySnapshotsBytes(t *testing.T) {
	d := newSandboxDir(t)
	writeLines(d, 0, 3000)
	sb := d.open()
	for _, v := range []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewSystem} {
		a, err := sb.OpenSnapshot(v)
		if err != nil {
			t.Fatal(err)
		}
		first := readAllAt(t, a, a.Size(), 1<<16)
		if a.seg.Cache == nil || a.seg.Cache.ChunkCount(-1) == 0 && len(a.seg.Cps) > 1 {
			t.Fatalf("%v: a full read cached no chunk", v)
		}
		if again := readAllAt(t, a, a.Size(), 7777); !bytes.Equal(again, first) {
			t.Fatalf("%v: a re-read through the cache differs", v)
		}
		if want := uncached(t, d, v); !bytes.Equal(first, want) {
			t.Fatalf("%v: cached read differs from an uncached render", v)
		}

		// A runtime line stamped early: the merge changes from there on.
		d.runtime(rl(5, fmt.Sprintf("late line for %v", v)))
		writeLines(d, 3000+int(v.Mask)*1000, 500)
		expireHold(sb)
		b, err := sb.OpenSnapshot(v)
		if err != nil {
			t.Fatal(err)
		}
		got := readAllAt(t, b, b.Size(), 1<<16)
		if want := uncached(t, d, v); !bytes.Equal(got, want) {
			t.Fatalf("%v: after a re-merge, the new snapshot differs from an uncached render", v)
		}
		if again := readAllAt(t, a, a.Size(), 1<<16); !bytes.Equal(again, first) {
			t.Fatalf("%v: the old snapshot's bytes changed after a re-merge", v)
		}
		a.Close()
		b.Close()
	}
}
