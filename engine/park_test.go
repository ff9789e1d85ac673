package engine

import (
	"bytes"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/index"
)

// testMargin is the racy margin of the homes of these tests: the files
// are written, then the test waits it out, as a host's idle sandboxes
// were written well before a walk reaches them.
const testMargin = 50 * time.Millisecond

// openParkHome opens a home with racy margin margin and park budget
// budget (0 for ParkBudget).
func openParkHome(t testing.TB, dir string, margin time.Duration, budget int64) *Home {
	t.Helper()
	h, err := openHome(dir, homeConfig{now: time.Now, idleAfter: defaultIdleAfter, maxLive: defaultMaxLive, racyMargin: margin, parkBudget: budget})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// writeParkSandbox writes a few lines of every origin, with one session.
func writeParkSandbox(d *tdir) {
	d.exec(jlID(1000, "stdout", "hello from exec\n", 7), jl(1010, "stderr", "an error\n"), jlID(1020, "stdout", "more\n", 7))
	d.runtime(rl(1005, "runtime up"))
	d.kernel(rl(1001, "kernel up"))
}

// letGo drops the state of sb as the idle release does, and forgets
// what the last stat showed, so that the next call looks at the files.
func letGo(t *testing.T, sb *Sandbox) {
	t.Helper()
	sb.mu.Lock()
	sb.dropState()
	sb.shownAt, sb.statAt, sb.probedAt = time.Time{}, time.Time{}, time.Time{}
	sb.mu.Unlock()
}

// holdsNoFile reports whether sb holds no state and no open file.
func holdsNoFile(sb *Sandbox) bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.shown == nil && len(sb.indexes) == 0 && sb.table.Held() == 0
}

// fresh returns what a home that never saw the sandbox shows of v: its
// stat and its bytes.
func fresh(t *testing.T, d *tdir, v View) (ViewStat, []byte) {
	t.Helper()
	h := openParkHome(t, d.home, testMargin, 0)
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sb.Stat(v)
	if err != nil {
		t.Fatal(err)
	}
	return st, snap(t, sb, v)
}

// parkedSandbox writes a sandbox, waits out the margin, stats and reads
// every view once and lets its state go: the home holds its summary.
func parkedSandbox(t *testing.T) (*tdir, *Sandbox) {
	t.Helper()
	d := newSandboxDir(t)
	writeParkSandbox(d)
	time.Sleep(2 * testMargin)
	h := openParkHome(t, d.home, testMargin, 0)
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range parkViews {
		if _, err := sb.Stat(v); err != nil {
			t.Fatal(err)
		}
		snap(t, sb, v)
	}
	letGo(t, sb)
	if n, _ := h.parks.stats(); n != 1 {
		t.Fatalf("the home parked %d summaries, want 1", n)
	}
	return d, sb
}

var parkViews = []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewStderr, ViewSystem, ViewMerged.Session(7)}

// TestParkedStatOpensNothing: a sandbox whose files have not changed
// since its state was let go answers every stat from its summary, opening
// no file and holding no state, with what a home that never saw it shows.
func TestParkedStatOpensNothing(t *testing.T) {
	d, sb := parkedSandbox(t)
	for _, v := range parkViews {
		got, err := sb.Stat(v)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := fresh(t, d, v)
		if got != want {
			t.Errorf("Stat(%v) from the summary = %+v, want %+v", v, got, want)
		}
	}
	sessions, err := sb.Sessions()
	if err != nil || len(sessions) != 1 || sessions[0].ID != 7 || sessions[0].Entries != 2 {
		t.Errorf("Sessions from the summary = %+v, %v; want session 7 of 2 entries", sessions, err)
	}
	if _, err := sb.SessionSummary(7); err != nil {
		t.Errorf("SessionSummary(7) from the summary: %v", err)
	}
	if _, err := sb.SessionSummary(8); err == nil {
		t.Error("SessionSummary(8) from the summary found a session the logs do not hold")
	}
	mt, err := sb.ModTime()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(d.path(KernelLogName)); err != nil || !mt.Equal(fi.ModTime()) {
		t.Errorf("ModTime from the summary = %v, want kernel.log's %v (%v)", mt, fi.ModTime(), err)
	}
	if !holdsNoFile(sb) {
		t.Error("a stat answered from the summary opened files or took state")
	}
	// An open resumes from the summary: no pass, the same bytes.
	for _, v := range parkViews {
		_, want := fresh(t, d, v)
		if got := snap(t, sb, v); !bytes.Equal(got, want) {
			t.Errorf("%v after the summary: %q, want %q", v, got, want)
		}
	}
}

// TestParkedSessionListBuiltOnce: the summaries of a parked index share
// one list of sessions, built at the first stat that asks: a later stat
// of a session allocates nothing, neither the list again nor the summary.
func TestParkedSessionListBuiltOnce(t *testing.T) {
	_, sb := parkedSandbox(t)
	p := sb.home.parks.get(sb.name, sb.dir)
	if p == nil || p.index(MaskAll) == nil {
		t.Fatal("no parked index of the exec chain")
	}
	px := p.index(MaskAll)
	var a, b []index.SessionSum
	px.WithSummary(func(x *index.Index) { a = x.Sessions() })
	px.WithSummary(func(x *index.Index) { b = x.Sessions() })
	if len(a) != 1 || len(b) != 1 || a[0].ID != 7 || &a[0] != &b[0] {
		t.Fatalf("two summaries' sessions: %+v at %p, %+v at %p; want session 7, one list", a, a, b, b)
	}
	allocs := testing.AllocsPerRun(100, func() {
		px.WithSummary(func(x *index.Index) {
			if _, ok := x.Session(7); !ok {
				t.Fatal("session 7 not in the summary")
			}
		})
	})
	if allocs > 0 {
		t.Errorf("a session's stat from the summary: %v allocations, want none", allocs)
	}
}

// TestParkedOpenShowsTheStatState: an open right after a stat answered
// from the summary shows what the stat showed, though the sandbox was
// appended to between them; once HoldFor passed, it shows the append.
func TestParkedOpenShowsTheStatState(t *testing.T) {
	d, sb := parkedSandbox(t)
	st, err := sb.Stat(ViewMerged)
	if err != nil {
		t.Fatal(err)
	}
	before := snapFresh(t, d)
	d.exec(jl(2000, "stdout", "appended between the stat and the open\n"))
	if got := snap(t, sb, ViewMerged); int64(len(got)) != st.Size || !bytes.Equal(got, before) {
		t.Errorf("the open after the stat read %d bytes %q, the stat showed %d: %q", len(got), got, st.Size, before)
	}
	time.Sleep(HoldFor)
	letGo(t, sb)
	checkShowsFresh(t, d, sb, "after HoldFor")
}

// snapFresh returns merged as a home that never saw the sandbox reads it.
func snapFresh(t *testing.T, d *tdir) []byte {
	_, b := fresh(t, d, ViewMerged)
	return b
}

// TestParkBudget: the store keeps the most recently used summaries within
// its budget, and reports their bytes.
func TestParkBudget(t *testing.T) {
	const n = 40
	home := newHomeDir(t)
	for i := range n {
		writeParkSandbox(mkSandbox(t, home, fmt.Sprintf("sb%02d", i)))
	}
	time.Sleep(2 * testMargin)
	park := func(h *Home, name string) {
		sb, err := h.Sandbox(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sb.Stat(ViewMerged); err != nil {
			t.Fatal(err)
		}
		letGo(t, sb)
	}
	h := openParkHome(t, home, testMargin, 0)
	park(h, "sb00")
	_, one := h.parks.stats()
	t.Logf("a small sandbox's summary: %d bytes", one)
	budget := 10*one + one/2
	h = openParkHome(t, home, testMargin, budget)
	for i := range n {
		park(h, fmt.Sprintf("sb%02d", i))
	}
	count, used := h.parks.stats()
	if count != 10 || used > budget {
		t.Fatalf("store holds %d summaries, %d bytes; want 10 within %d", count, used, budget)
	}
	for i := range n {
		sb, err := h.Sandbox(fmt.Sprintf("sb%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		sb.mu.Lock()
		kept := sb.parkedNow() != nil
		sb.mu.Unlock()
		if want := i >= n-10; kept != want {
			t.Errorf("sb%02d kept %v, want %v (the last 10 used)", i, kept, want)
		}
	}
}

// TestParkedConcurrent: stats, opens and session listings of a few
// sandboxes from several goroutines, while one of them is written to and
// the sweeper lets state go and parks it at every turn (MaxLive 1): every
// snapshot reads as many bytes as its size, and every stat of an
// unchanged sandbox equals a fresh home's (run with -race).
func TestParkedConcurrent(t *testing.T) {
	home := newHomeDir(t)
	var dirs []*tdir
	for i := range 4 {
		d := mkSandbox(t, home, fmt.Sprintf("sb%d", i))
		writeParkSandbox(d)
		dirs = append(dirs, d)
	}
	time.Sleep(2 * testMargin)
	want := make([]ViewStat, len(dirs))
	for i, d := range dirs[1:] {
		want[i+1], _ = fresh(t, d, ViewMerged)
	}
	h, err := openHome(home, homeConfig{now: time.Now, idleAfter: defaultIdleAfter, maxLive: 1, racyMargin: testMargin})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	done := make(chan struct{})
	errs := make(chan error, 8)
	go func() { // the writer: sandbox 0 only
		defer func() { errs <- nil }()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
			dirs[0].exec(jlID(int64(2000+i), "stdout", fmt.Sprintf("line %d\n", i), 7))
		}
	}()
	for g := range 4 {
		go func() {
			for i := 0; i < 300; i++ {
				k := (g + i) % len(dirs)
				sb, err := h.Sandbox(dirs[k].name)
				if err != nil {
					errs <- err
					return
				}
				st, err := sb.Stat(ViewMerged)
				if err != nil {
					errs <- err
					return
				}
				if k > 0 && st != want[k] {
					errs <- fmt.Errorf("sb%d: Stat = %+v, want %+v", k, st, want[k])
					return
				}
				if _, err := sb.Sessions(); err != nil {
					errs <- err
					return
				}
				s, err := sb.OpenSnapshot(ViewMerged)
				if err != nil {
					errs <- err
					return
				}
				b := make([]byte, s.Size()+1)
				n, _ := s.ReadAt(b, 0)
				s.Close()
				if int64(n) != s.Size() {
					errs <- fmt.Errorf("sb%d: snapshot of %d bytes read %d", k, s.Size(), n)
					return
				}
				if i%50 == 0 {
					h.reclaim() // lets every state go, as the sweeper does
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	<-errs
	h.reclaim()
	if n, _ := h.parks.stats(); n < len(dirs)-1 { // sb0 too if the writer paused for testMargin
		t.Errorf("%d sandboxes parked, want at least the %d unchanged ones", n, len(dirs)-1)
	}
}

// TestParkedNotWithoutFiles: a sandbox with no log file yet is not parked:
// once removed, its log names would show the same (empty) stamp.
func TestParkedNotWithoutFiles(t *testing.T) {
	d := newSandboxDir(t)
	time.Sleep(2 * testMargin)
	h := openParkHome(t, d.home, testMargin, 0)
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := sb.Stat(ViewMerged); err != nil || st.Size != 0 {
		t.Fatalf("Stat of an empty sandbox = %+v, %v", st, err)
	}
	letGo(t, sb)
	if n, _ := h.parks.stats(); n != 0 {
		t.Errorf("a sandbox with no log file was parked (%d)", n)
	}
}

// TestParkedOpenShowsTheStatStateAcrossRotation: a rotation and a write
// between a stat answered from the summary and an open just after it: the
// open shows what the stat showed, the rotated file at its old size.
func TestParkedOpenShowsTheStatStateAcrossRotation(t *testing.T) {
	d, sb := parkedSandbox(t)
	st, err := sb.Stat(ViewMerged)
	if err != nil {
		t.Fatal(err)
	}
	before := snapFresh(t, d)
	d.rotate()
	d.exec(jl(2000, "stdout", "written after the rotation\n"))
	if got := snap(t, sb, ViewMerged); int64(len(got)) != st.Size || !bytes.Equal(got, before) {
		t.Errorf("the open after the stat read %d bytes %q; the stat showed %d: %q", len(got), got, st.Size, before)
	}
	time.Sleep(HoldFor)
	letGo(t, sb)
	checkShowsFresh(t, d, sb, "after HoldFor")
}

// TestIdleAfterParkedStatsReleasesMemory: stats answered from parked
// summaries take no state, but the sweep still gives the memory they left
// back to the system once the home is idle: once per burst of use, and
// not while the home is in use.
func TestIdleAfterParkedStatsReleasesMemory(t *testing.T) {
	d := newSandboxDir(t)
	writeParkSandbox(d)
	time.Sleep(2 * testMargin)
	clock := newFakeClock()
	h, err := openHome(d.home, homeConfig{now: clock.now, idleAfter: defaultIdleAfter, maxLive: defaultMaxLive, racyMargin: testMargin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	var released atomic.Int32
	h.releaseMemory = func() { released.Add(1) }
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Stat(ViewMerged); err != nil {
		t.Fatal(err)
	}
	clock.advance(defaultIdleAfter)
	h.sweep() // lets the state go: parked
	base := released.Load()
	if base != 1 {
		t.Fatalf("after the state was let go: %d releases, want 1", base)
	}
	sb, err = h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := sb.Stat(ViewMerged); err != nil {
			t.Fatal(err)
		}
		if !holdsNoFile(sb) {
			t.Fatal("a stat of the parked sandbox took state")
		}
		clock.advance(defaultIdleAfter / 2)
		h.sweep()
		if got := released.Load(); got != base {
			t.Fatalf("while in use: %d releases, want %d", got, base)
		}
	}
	clock.advance(defaultIdleAfter)
	h.sweep()
	h.sweep()
	if got := released.Load(); got != base+1 {
		t.Fatalf("idle after stats from the summary: %d releases, want %d", got, base+1)
	}
}

// TestSessionsReady: a sandbox's sessions are at hand without a pass
// while it is parked and its log names show the stamp, or while it holds
// an index of the state it shows; not in a home that never indexed it,
// not once its held state is older than HoldFor, and not once a write
// moved its files past the parked stamp. Sessions answers the same
// either way.
func TestSessionsReady(t *testing.T) {
	d, sb := parkedSandbox(t)
	if !sb.SessionsReady() {
		t.Fatal("a parked sandbox's sessions are not ready")
	}
	list, err := sb.Sessions()
	if err != nil || len(list) != 1 || list[0].ID != 7 || !holdsNoFile(sb) {
		t.Fatalf("Sessions of the parked sandbox: %+v, %v (holds no file: %v); want session 7 from the summary", list, err, holdsNoFile(sb))
	}

	cold, err := openParkHome(t, d.home, testMargin, 0).Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	if cold.SessionsReady() {
		t.Fatal("the sessions of a sandbox a home never indexed are ready")
	}
	if _, err := cold.Sessions(); err != nil {
		t.Fatal(err)
	}
	if !cold.SessionsReady() {
		t.Fatal("the sessions of a sandbox just indexed are not ready")
	}
	time.Sleep(HoldFor + 20*time.Millisecond)
	if cold.SessionsReady() {
		t.Fatal("the sessions of a live sandbox are ready after its hold ended")
	}

	d.exec(jlID(2000, "stdout", "a new session\n", 9))
	sb.mu.Lock()
	sb.probedAt = time.Time{} // the next call looks at the files
	sb.mu.Unlock()
	if sb.SessionsReady() {
		t.Fatal("the sessions of a parked sandbox written since are ready")
	}
	if list, err = sb.Sessions(); err != nil || len(list) != 2 || list[1].ID != 9 {
		t.Fatalf("Sessions after the write: %+v, %v; want sessions 7 and 9", list, err)
	}
}
