package engine

import (
	"testing"
	"time"
)

// TestStatHeld: StatHeld says how much longer the state it shows is shown
// to every stat: all of HoldFor when a stat first shows it, the rest of it
// later, during which an append does not show; once the hold is over, the
// next stat shows the append and holds it afresh.
func TestStatHeld(t *testing.T) {
	d, sb, clock := clockedSandbox(t)
	first, held := statHeld(t, sb)
	if held != HoldFor {
		t.Fatalf("a stat that first shows a state holds it %v, want HoldFor (%v)", held, HoldFor)
	}
	clock.advance(30 * time.Millisecond)
	d.exec(jl(2000, "stdout", "written during the hold\n"))
	st, held := statHeld(t, sb)
	if st != first || held != HoldFor-30*time.Millisecond {
		t.Fatalf("30 ms into the hold, after an append: %+v held %v; want the held %+v for %v", st, held, first, HoldFor-30*time.Millisecond)
	}
	clock.advance(HoldFor)
	st, held = statHeld(t, sb)
	if st.Size <= first.Size || held != HoldFor {
		t.Fatalf("after the hold: %+v held %v; want the append shown (more than %d bytes), held for HoldFor", st, held, first.Size)
	}
}

// TestStatHeldParked: a stat answered from a parked summary says how much
// longer the summary's stamp is shown without a look at the files: at
// most HoldFor, and less as the hold goes by.
func TestStatHeldParked(t *testing.T) {
	_, sb := parkedSandbox(t)
	_, held := statHeld(t, sb)
	if !holdsNoFile(sb) {
		t.Fatal("the stat of the parked sandbox took state: the test proves nothing")
	}
	if held <= 0 || held > HoldFor {
		t.Fatalf("a stat from the parked summary is held %v, want within (0, HoldFor]", held)
	}
	time.Sleep(HoldFor / 2)
	if _, later := statHeld(t, sb); later > held-HoldFor/2 {
		t.Fatalf("%v after a stat held %v, the next is held %v: the hold does not start again at each stat", HoldFor/2, held, later)
	}
}

// TestStatsReady: a stat of every file of a sandbox is at hand while both
// its indexes, the full merge's and the system view's, are (parked, or
// held by a sandbox that holds state); not in a home that never indexed
// it, not with the full merge's index alone, and not once a write moved a
// parked sandbox's files past its summary's stamp.
func TestStatsReady(t *testing.T) {
	d, sb := parkedSandbox(t)
	if !sb.StatsReady() || !holdsNoFile(sb) {
		t.Fatalf("a parked sandbox's stats are ready: %v (holds no file: %v), want true", sb.StatsReady(), holdsNoFile(sb))
	}
	cold, err := openParkHome(t, d.home, testMargin, 0).Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	if cold.StatsReady() {
		t.Fatal("the stats of a sandbox a home never indexed are ready")
	}
	statHeld(t, cold)
	if cold.StatsReady() {
		t.Fatal("the stats of a sandbox whose system view was never indexed are ready")
	}
	if _, err := cold.Stat(ViewSystem); err != nil {
		t.Fatal(err)
	}
	if !cold.StatsReady() {
		t.Fatal("the stats of a sandbox holding both indexes are not ready")
	}
	d.exec(jl(2000, "stdout", "a write after the park\n"))
	sb.mu.Lock()
	sb.probedAt = time.Time{} // the next call looks at the files
	sb.mu.Unlock()
	if sb.StatsReady() {
		t.Fatal("the stats of a parked sandbox written since are ready")
	}
}

// clockedSandbox returns a sandbox written as writeParkSandbox does, in a
// home whose clock is the stopped clock returned.
func clockedSandbox(t *testing.T) (*tdir, *Sandbox, *fakeClock) {
	t.Helper()
	d := newSandboxDir(t)
	writeParkSandbox(d)
	clock := newFakeClock()
	sb, err := openClockedHome(t, d.home, clock, defaultMaxLive).Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	return d, sb, clock
}

// statHeld returns sb's StatHeld of merged, failing t on an error.
func statHeld(t *testing.T, sb *Sandbox) (ViewStat, time.Duration) {
	t.Helper()
	st, held, err := sb.StatHeld(ViewMerged)
	if err != nil {
		t.Fatal(err)
	}
	return st, held
}

// TestToOpenShowsTheStatState: a stat shows a state at the very end of its
// hold; the sandbox writes, and the hold ends. A stat now shows the write,
// but the sandbox as an open sees it (ToOpen) still shows the state the
// stat showed, for HoldFor after that stat: the lookup of tar's open after
// its lstat. Once that is over, it shows the write too.
func TestToOpenShowsTheStatState(t *testing.T) {
	d, sb, clock := clockedSandbox(t)
	first, _ := statHeld(t, sb)
	clock.advance(HoldFor - time.Millisecond)
	if st, _ := statHeld(t, sb); st != first {
		t.Fatalf("a stat within the hold: %+v, want the held %+v", st, first)
	}
	d.exec(jl(2000, "stdout", "written at the end of the hold\n"))
	clock.advance(2 * time.Millisecond)
	open, _, err := sb.ToOpen().StatHeld(ViewMerged)
	if err != nil || open != first {
		t.Fatalf("as an open sees it, just past the hold: %+v, %v; want the state the last stat showed, %+v", open, err, first)
	}
	if st, _ := statHeld(t, sb); st.Size <= first.Size {
		t.Fatalf("a stat past the hold: %+v, want the write shown", st)
	}
	clock.advance(HoldFor)
	if open, _, _ := sb.ToOpen().StatHeld(ViewMerged); open.Size <= first.Size {
		t.Fatalf("as an open sees it, HoldFor after the last stat: %+v, want the write shown", open)
	}
}
