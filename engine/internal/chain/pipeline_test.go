package chain_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
	"github.com/microsandbox/msb-logfs/internal/cores"
)

// TestParseAheadMatchesSerial: a merge whose exec reader parses ahead on
// several workers yields, entry by entry, what a serial merge yields —
// entries, states, bytes read and skipped lines — and ends in the same
// state, for every stream, from the start and from states inside the
// chain, with spans from 13 bytes to larger than a file, a worker's
// longest line below some lines of the chain, and spans parsed by the
// reader itself whenever no worker took them first.
func TestParseAheadMatchesSerial(t *testing.T) {
	for _, k := range []testutil.AheadKnobs{
		{Span: 13, BigLine: 4 << 10, After: 0},
		{Span: 97, BigLine: 300, After: 0},
		{Span: 4 << 10, BigLine: 300, After: 5 << 10},
		{Span: 1 << 20, BigLine: 1 << 20, After: 0},
		{Span: 97, BigLine: 300, After: 0, ReaderFirst: true},
		{Span: 4 << 10, BigLine: 300, After: 5 << 10, ReaderFirst: true},
	} {
		t.Run(fmt.Sprintf("span%d-long%d-after%d-readerfirst%v", k.Span, k.BigLine, k.After, k.ReaderFirst), func(t *testing.T) {
			testutil.WithAhead(t, k)
			d := testutil.HostileChain(t, uint64(k.Span), 2000)
			files := d.OpenFiles()
			for _, mask := range []logline.SourceMask{logline.MaskAll, 1 << logline.SourceStdout, 1<<logline.SourceSystem | 1<<logline.SourceStderr} {
				want := testutil.RunMerge(t, files, mask, chain.State{}, false)
				got := testutil.RunMerge(t, files, mask, chain.State{}, true)
				if !got.Ahead {
					t.Fatalf("mask %b: the merge never parsed ahead", mask)
				}
				testutil.SameRun(t, fmt.Sprintf("mask %b from the start", mask), got, want)
				for i := 0; i < len(want.Steps); i += 1 + len(want.Steps)/7 {
					st := want.Steps[i].State
					testutil.SameRun(t, fmt.Sprintf("mask %b from %v", mask, st), testutil.RunMerge(t, files, mask, st, true), testutil.RunMerge(t, files, mask, st, false))
				}
			}
		})
	}
}

// TestParseAheadOneCore: with one core for the scheduler, a long read
// never starts workers (a hand-over gains nothing there).
func TestParseAheadOneCore(t *testing.T) {
	testutil.WithAhead(t, testutil.AheadKnobs{Span: 1 << 10, BigLine: 1 << 20})
	runtime.GOMAXPROCS(1)
	d := testutil.HostileChain(t, 3, 100)
	files := d.OpenFiles()
	if run := testutil.RunMerge(t, files, logline.MaskAll, chain.State{}, true); run.Ahead || len(run.Steps) == 0 {
		t.Fatalf("one core: parsed ahead %v, %d entries", run.Ahead, len(run.Steps))
	}
}

// TestParseAheadSharesCores: the workers of two reads at once together
// never outnumber the scheduler's cores; a read that finds none free reads
// serially and yields the same entries; the places are given back.
func TestParseAheadSharesCores(t *testing.T) {
	testutil.WithAhead(t, testutil.AheadKnobs{Span: 1 << 10, BigLine: 1 << 20})
	d := testutil.HostileChain(t, 3, 100)
	files := d.OpenFiles()
	want := testutil.RunMerge(t, files, logline.MaskAll, chain.State{}, false)
	var ms [3]chain.Merger
	var got [3][]logline.Entry
	ahead := make([]bool, len(ms))
	for i := range ms {
		ms[i].AllowAhead()
		if err := ms[i].Reset(files, logline.MaskAll, chain.State{}); err != nil {
			t.Fatal(err)
		}
		defer ms[i].ReleaseBuffers()
	}
	for more := true; more; {
		more = false
		for i := range ms { // one entry of each read in turn
			e, ok := ms[i].Next()
			if !ok {
				continue
			}
			more = true
			c := *e
			c.Body = bytes.Clone(e.Body)
			got[i] = append(got[i], c)
			ahead[i] = ahead[i] || ms[i].ParsingAhead()
			if n := chain.AheadRunning(); n > int64(runtime.GOMAXPROCS(0)) {
				t.Fatalf("%d parse-ahead workers on %d cores", n, runtime.GOMAXPROCS(0))
			}
		}
	}
	if !ahead[0] {
		t.Fatal("the first read never parsed ahead: the test proves nothing")
	}
	if ahead[1] && ahead[2] {
		t.Fatal("three reads all parsed ahead on four cores with four workers each")
	}
	for i := range ms {
		if len(got[i]) != len(want.Steps) {
			t.Fatalf("read %d: %d entries, a serial read gives %d", i, len(got[i]), len(want.Steps))
		}
		for j, e := range got[i] {
			if w := want.Steps[j].E; e.Time != w.Time || e.Source != w.Source || !bytes.Equal(e.Body, w.Body) {
				t.Fatalf("read %d entry %d = %+v, a serial read gives %+v", i, j, e, w)
			}
		}
		ms[i].ReleaseBuffers()
	}
	testutil.WaitWorkers(t, "after three reads", runtime.NumGoroutine())
}

// TestParseAheadWidensNarrowed: in a process narrowed to serve on one
// processor (the mount), a long read still parses ahead on the cores there
// were, widens the process while its workers run, and leaves it narrowed
// once they have stopped; the entries are a serial read's.
func TestParseAheadWidensNarrowed(t *testing.T) {
	testutil.WithAhead(t, testutil.AheadKnobs{Span: 1 << 10, BigLine: 1 << 20})
	t.Setenv("GOMAXPROCS", "") // restored after the test
	os.Unsetenv("GOMAXPROCS")  // Narrow defers to a value set there
	wide := runtime.GOMAXPROCS(0)
	restore := cores.Narrow(1)
	defer restore()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("narrowed to %d processors, want 1", n)
	}
	d := testutil.HostileChain(t, 3, 100)
	files := d.OpenFiles()
	want := testutil.RunMerge(t, files, logline.MaskAll, chain.State{}, false)
	var m chain.Merger
	m.AllowAhead()
	if err := m.Reset(files, logline.MaskAll, chain.State{}); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	var got []logline.Entry
	widened := false
	for e, ok := m.Next(); ok; e, ok = m.Next() {
		c := *e
		c.Body = bytes.Clone(e.Body)
		got = append(got, c)
		if chain.AheadRunning() > 0 {
			widened = widened || runtime.GOMAXPROCS(0) == wide
		}
	}
	m.ReleaseBuffers()
	testutil.WaitWorkers(t, "after the read", base)
	if !widened {
		t.Fatalf("no worker ran with the process widened to %d processors", wide)
	}
	deadline := time.Now().Add(5 * time.Second) // it lingers wide a moment
	for runtime.GOMAXPROCS(0) != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("GOMAXPROCS %d 5 s after the workers stopped, want 1", n)
	}
	if len(got) != len(want.Steps) {
		t.Fatalf("%d entries, a serial read gives %d", len(got), len(want.Steps))
	}
	for j, e := range got {
		if w := want.Steps[j].E; e.Time != w.Time || e.Source != w.Source || !bytes.Equal(e.Body, w.Body) {
			t.Fatalf("entry %d = %+v, a serial read gives %+v", j, e, w)
		}
	}
}
