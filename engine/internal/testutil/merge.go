package testutil

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// AheadKnobs are the parse-ahead settings a test runs with.
type AheadKnobs struct {
	Span        int64
	BigLine     int
	After       int64
	ReaderFirst bool
}

// WithAhead sets the parse-ahead knobs (any input is then long enough) and
// at least four cores for the scheduler, so that several workers run even
// on a small machine, until the test ends.
func WithAhead(t testing.TB, k AheadKnobs) {
	procs := runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0)))
	restore := chain.SetAhead(&chain.AheadConfig{Span: k.Span, BigLine: k.BigLine, After: k.After, Workers: 4, ReaderFirst: k.ReaderFirst})
	t.Cleanup(func() {
		restore()
		runtime.GOMAXPROCS(procs)
	})
}

// MergeStep is what a merge yields and counts at one entry.
type MergeStep struct {
	E      logline.Entry // body copied
	State  chain.State
	Read   int64
	Counts chain.Counts
}

// MergeRun is a whole merge from one state: every step, the drained state
// and the error.
type MergeRun struct {
	Steps   []MergeStep
	Drained chain.State
	Err     error
	Ahead   bool // the exec reader parsed ahead at some point
}

// RunMerge merges the stream of mask over files from st, with parse-ahead
// allowed or not, and releases the merger.
func RunMerge(t testing.TB, files *chain.FileSet, mask logline.SourceMask, st chain.State, ahead bool) MergeRun {
	t.Helper()
	var m chain.Merger
	defer m.ReleaseBuffers()
	if ahead {
		m.AllowAhead()
	}
	if err := m.Reset(files, mask, st); err != nil {
		t.Fatal(err)
	}
	var run MergeRun
	for {
		e, ok := m.Next()
		run.Ahead = run.Ahead || m.ParsingAhead()
		if !ok {
			break
		}
		c := *e
		c.Body = bytes.Clone(e.Body)
		run.Steps = append(run.Steps, MergeStep{E: c, State: m.State, Read: m.Read(), Counts: m.Counts()})
	}
	run.Drained, run.Err = m.Drained(), m.Err()
	return run
}

// SameRun fails the test where got differs from the serial run want.
func SameRun(t testing.TB, what string, got, want MergeRun) {
	t.Helper()
	if got.Err != nil || want.Err != nil {
		t.Fatalf("%s: errors %v (ahead), %v (serial)", what, got.Err, want.Err)
	}
	for i := range min(len(got.Steps), len(want.Steps)) {
		g, w := got.Steps[i], want.Steps[i]
		if g.State != w.State || g.Read != w.Read || g.Counts != w.Counts {
			t.Fatalf("%s: step %d: state %v read %d counts %+v, serial %v %d %+v", what, i, g.State, g.Read, g.Counts, w.State, w.Read, w.Counts)
		}
		ge, we := g.E, w.E
		if !bytes.Equal(ge.Body, we.Body) {
			t.Fatalf("%s: step %d: body %q, serial %q", what, i, ge.Body, we.Body)
		}
		if ge.Time != we.Time || ge.Source != we.Source || ge.Origin != we.Origin || ge.HasID != we.HasID || ge.ID != we.ID || !SameDecoding(&ge, &we) {
			t.Fatalf("%s: step %d: entry %+v, serial %+v", what, i, ge, we)
		}
	}
	if len(got.Steps) != len(want.Steps) {
		t.Fatalf("%s: %d entries, serial %d", what, len(got.Steps), len(want.Steps))
	}
	if got.Drained != want.Drained {
		t.Fatalf("%s: drained %v, serial %v", what, got.Drained, want.Drained)
	}
}

// SameDecoding reports whether a and b were decoded alike, with the same
// stats.
func SameDecoding(a, b *logline.Entry) bool {
	sa, ua := a.Decoded()
	sb, ub := b.Decoded()
	return sa == sb && ua == ub
}

// WaitWorkers waits until no parse-ahead worker runs and the goroutine
// count is back to base, or fails after a deadline.
func WaitWorkers(t testing.TB, what string, base int) {
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
