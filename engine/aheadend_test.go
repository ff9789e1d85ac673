package engine

import (
	"runtime"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// TestParseAheadGoroutinesEnd: the workers of a parse-ahead end when the
// merge is reset, when it releases its buffers, when it reaches the end,
// when a snapshot read halfway is closed, and on a read error; none is
// left behind.
func TestParseAheadGoroutinesEnd(t *testing.T) {
	testutil.WithAhead(t, testutil.AheadKnobs{Span: 1 << 10, BigLine: 1 << 20, After: 4 << 10})
	d := hostileChain(t, 5, 100)
	sb := d.openWith(func(h *Home) { h.SetCacheDir("") }) // reads render
	files, err := chain.OpenFileSet(sb.table)
	if err != nil {
		t.Fatal(err)
	}
	defer files.Release()
	base := runtime.NumGoroutine()
	started := func(m *chain.Merger) {
		t.Helper()
		if err := m.Reset(files, MaskAll, State{}); err != nil {
			t.Fatal(err)
		}
		for !m.ParsingAhead() {
			if _, ok := m.Next(); !ok {
				t.Fatal("the merge ended before it parsed ahead")
			}
		}
		if chain.AheadRunning() == 0 {
			t.Fatal("parse-ahead started no worker")
		}
	}
	var m chain.Merger
	m.AllowAhead()
	started(&m)
	if err := m.Reset(files, MaskAll, State{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitWorkers(t, "reset", base)

	started(&m)
	m.ReleaseBuffers()
	testutil.WaitWorkers(t, "releaseBuffers", base)

	started(&m)
	for {
		if _, ok := m.Next(); !ok {
			break
		}
	}
	testutil.WaitWorkers(t, "the end of the merge", base)
	m.ReleaseBuffers()

	snap, err := sb.OpenSnapshot(ViewMerged)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snap.seg.ReadAt(make([]byte, 20<<10), 0); err != nil {
		t.Fatal(err)
	}
	if chain.AheadRunning() == 0 && !snap.seg.ParsingAhead() {
		t.Fatal("a snapshot's read did not parse ahead")
	}
	snap.Close()
	testutil.WaitWorkers(t, "a snapshot closed halfway", base)

	// A read error: the exec files are closed under the workers.
	started(&m)
	for _, f := range files.Chain {
		f.File.Close()
	}
	for {
		if _, ok := m.Next(); !ok {
			break
		}
	}
	if m.Err() == nil {
		t.Fatal("reading closed files: no error")
	}
	testutil.WaitWorkers(t, "a read error", base)
	m.ReleaseBuffers()
}
