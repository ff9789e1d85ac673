package engine

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
)

// aheadKnobs are the parse-ahead settings a test runs with.
type aheadKnobs struct {
	span        int64
	bigLine     int
	after       int64
	readerFirst bool
}

// withAhead sets the parse-ahead knobs (any input is then long enough) and
// at least four cores for the scheduler, so that several workers run even
// on a small machine, until the test ends.
func withAhead(t testing.TB, k aheadKnobs) {
	procs := runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0)))
	restore := chain.SetAhead(&chain.AheadConfig{Span: k.span, BigLine: k.bigLine, After: k.after, Workers: 4, ReaderFirst: k.readerFirst})
	t.Cleanup(func() {
		restore()
		runtime.GOMAXPROCS(procs)
	})
}

// mergeStep is what a merge yields and counts at one entry.
type mergeStep struct {
	e      Entry // body copied
	state  State
	read   int64
	counts chain.Counts
}

// mergeRun is a whole merge from one state: every step, the drained state
// and the error.
type mergeRun struct {
	steps   []mergeStep
	drained State
	err     error
	ahead   bool // the exec reader parsed ahead at some point
}

// runMerge merges the stream of mask over files from st, with parse-ahead
// allowed or not, and releases the merger.
func runMerge(t testing.TB, files *chain.FileSet, mask SourceMask, st State, ahead bool) mergeRun {
	t.Helper()
	var m chain.Merger
	defer m.ReleaseBuffers()
	if ahead {
		m.AllowAhead()
	}
	if err := m.Reset(files, mask, st); err != nil {
		t.Fatal(err)
	}
	var run mergeRun
	for {
		e, ok := m.Next()
		run.ahead = run.ahead || m.ParsingAhead()
		if !ok {
			break
		}
		c := *e
		c.Body = bytes.Clone(e.Body)
		run.steps = append(run.steps, mergeStep{e: c, state: m.State, read: m.Read(), counts: m.Counts()})
	}
	run.drained, run.err = m.Drained(), m.Err()
	return run
}

// sameRun fails the test where got differs from the serial run want.
func sameRun(t testing.TB, what string, got, want mergeRun) {
	t.Helper()
	if got.err != nil || want.err != nil {
		t.Fatalf("%s: errors %v (ahead), %v (serial)", what, got.err, want.err)
	}
	for i := range min(len(got.steps), len(want.steps)) {
		g, w := got.steps[i], want.steps[i]
		if g.state != w.state || g.read != w.read || g.counts != w.counts {
			t.Fatalf("%s: step %d: state %v read %d counts %+v, serial %v %d %+v", what, i, g.state, g.read, g.counts, w.state, w.read, w.counts)
		}
		ge, we := g.e, w.e
		if !bytes.Equal(ge.Body, we.Body) {
			t.Fatalf("%s: step %d: body %q, serial %q", what, i, ge.Body, we.Body)
		}
		if ge.Time != we.Time || ge.Source != we.Source || ge.Origin != we.Origin || ge.HasID != we.HasID || ge.ID != we.ID || !sameDecoding(&ge, &we) {
			t.Fatalf("%s: step %d: entry %+v, serial %+v", what, i, ge, we)
		}
	}
	if len(got.steps) != len(want.steps) {
		t.Fatalf("%s: %d entries, serial %d", what, len(got.steps), len(want.steps))
	}
	if got.drained != want.drained {
		t.Fatalf("%s: drained %v, serial %v", what, got.drained, want.drained)
	}
}

// hostileChain writes an adversarial sandbox whose exec chain also holds
// lines longer than a worker parses (terminated, and as the unterminated
// tail of a rotated file), a rotated file ending in a partial line, and a
// partial last line.
func hostileChain(t testing.TB, seed uint64, long int) *tdir {
	d := newSandboxDir(t)
	g := newCorpusGen(d, seed)
	g.write(40<<10, true)
	d.rotate() // exec.log.1 ends in a partial line
	g.write(20<<10, false)
	d.exec(jl(1e6, "stdout", strings.Repeat("long ", long/5)) + "\n")
	g.write(10<<10, false)
	d.exec(`{"t":"` + tsAt(2e6) + `","s":"stderr","d":"` + strings.Repeat("x", long))
	d.rotate() // exec.log.1 ends in a long unterminated line
	g.write(30<<10, true)
	return d
}

// TestParseAheadMatchesSerial: a merge whose exec reader parses ahead on
// several workers yields, entry by entry, what a serial merge yields —
// entries, states, bytes read and skipped lines — and ends in the same
// state, for every stream, from the start and from states inside the
// chain, with spans from 13 bytes to larger than a file, a worker's
// longest line below some lines of the chain, and spans parsed by the
// reader itself whenever no worker took them first.
func TestParseAheadMatchesSerial(t *testing.T) {
	for _, k := range []aheadKnobs{
		{span: 13, bigLine: 4 << 10, after: 0},
		{span: 97, bigLine: 300, after: 0},
		{span: 4 << 10, bigLine: 300, after: 5 << 10},
		{span: 1 << 20, bigLine: 1 << 20, after: 0},
		{span: 97, bigLine: 300, after: 0, readerFirst: true},
		{span: 4 << 10, bigLine: 300, after: 5 << 10, readerFirst: true},
	} {
		t.Run(fmt.Sprintf("span%d-long%d-after%d-readerfirst%v", k.span, k.bigLine, k.after, k.readerFirst), func(t *testing.T) {
			withAhead(t, k)
			d := hostileChain(t, uint64(k.span), 2000)
			files, err := chain.OpenFileSet(d.open().table)
			if err != nil {
				t.Fatal(err)
			}
			defer files.Release()
			for _, mask := range []SourceMask{MaskAll, 1 << SourceStdout, 1<<SourceSystem | 1<<SourceStderr} {
				want := runMerge(t, files, mask, State{}, false)
				got := runMerge(t, files, mask, State{}, true)
				if !got.ahead {
					t.Fatalf("mask %b: the merge never parsed ahead", mask)
				}
				sameRun(t, fmt.Sprintf("mask %b from the start", mask), got, want)
				for i := 0; i < len(want.steps); i += 1 + len(want.steps)/7 {
					st := want.steps[i].state
					sameRun(t, fmt.Sprintf("mask %b from %v", mask, st), runMerge(t, files, mask, st, true), runMerge(t, files, mask, st, false))
				}
			}
		})
	}
}

// TestParseAheadOneCore: with one core for the scheduler, a long read
// never starts workers (a hand-over gains nothing there).
func TestParseAheadOneCore(t *testing.T) {
	withAhead(t, aheadKnobs{span: 1 << 10, bigLine: 1 << 20})
	runtime.GOMAXPROCS(1)
	d := hostileChain(t, 3, 100)
	files, err := chain.OpenFileSet(d.open().table)
	if err != nil {
		t.Fatal(err)
	}
	defer files.Release()
	if run := runMerge(t, files, MaskAll, State{}, true); run.ahead || len(run.steps) == 0 {
		t.Fatalf("one core: parsed ahead %v, %d entries", run.ahead, len(run.steps))
	}
}

// TestParseAheadSharesCores: the workers of two reads at once together
// never outnumber the scheduler's cores; a read that finds none free reads
// serially and yields the same entries; the places are given back.
func TestParseAheadSharesCores(t *testing.T) {
	withAhead(t, aheadKnobs{span: 1 << 10, bigLine: 1 << 20})
	d := hostileChain(t, 3, 100)
	files, err := chain.OpenFileSet(d.open().table)
	if err != nil {
		t.Fatal(err)
	}
	defer files.Release()
	want := runMerge(t, files, MaskAll, State{}, false)
	var ms [3]chain.Merger
	var got [3][]Entry
	ahead := make([]bool, len(ms))
	for i := range ms {
		ms[i].AllowAhead()
		if err := ms[i].Reset(files, MaskAll, State{}); err != nil {
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
		if len(got[i]) != len(want.steps) {
			t.Fatalf("read %d: %d entries, a serial read gives %d", i, len(got[i]), len(want.steps))
		}
		for j, e := range got[i] {
			if w := want.steps[j].e; e.Time != w.Time || e.Source != w.Source || !bytes.Equal(e.Body, w.Body) {
				t.Fatalf("read %d entry %d = %+v, a serial read gives %+v", i, j, e, w)
			}
		}
		ms[i].ReleaseBuffers()
	}
	waitWorkers(t, "after three reads", runtime.NumGoroutine())
}

// waitWorkers waits until no parse-ahead worker runs and the goroutine
// count is back to base, or fails after a deadline.
func waitWorkers(t testing.TB, what string, base int) {
	t.Helper()
	if n := chain.AheadRunning(); n != 0 {
		t.Fatalf("%s: %d workers still running after the stop returned", what, n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base { // a worker past wg.Done is not gone yet
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d goroutines, %d before", what, runtime.NumGoroutine(), base)
		}
		runtime.Gosched()
	}
}

// TestParseAheadGoroutinesEnd: the workers of a parse-ahead end when the
// merge is reset, when it releases its buffers, when it reaches the end,
// when a snapshot read halfway is closed, and on a read error; none is
// left behind.
func TestParseAheadGoroutinesEnd(t *testing.T) {
	withAhead(t, aheadKnobs{span: 1 << 10, bigLine: 1 << 20, after: 4 << 10})
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
	waitWorkers(t, "reset", base)

	started(&m)
	m.ReleaseBuffers()
	waitWorkers(t, "releaseBuffers", base)

	started(&m)
	for {
		if _, ok := m.Next(); !ok {
			break
		}
	}
	waitWorkers(t, "the end of the merge", base)
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
	waitWorkers(t, "a snapshot closed halfway", base)

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
	waitWorkers(t, "a read error", base)
	m.ReleaseBuffers()
}

// sameDecoding reports whether a and b were decoded alike, with the same
// stats.
func sameDecoding(a, b *Entry) bool {
	sa, ua := a.Decoded()
	sb, ub := b.Decoded()
	return sa == sb && ua == ub
}
