package cores

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// withProcs sets GOMAXPROCS to n for the test and unsets the environment
// variable Narrow defers to.
func withProcs(t *testing.T, n int) {
	t.Setenv("GOMAXPROCS", "") // restored after the test
	os.Unsetenv("GOMAXPROCS")
	saved := runtime.GOMAXPROCS(n)
	t.Cleanup(func() { runtime.GOMAXPROCS(saved) })
	linger := lingerFor
	lingerFor = 30 * time.Millisecond
	t.Cleanup(func() { lingerFor = linger })
}

// waitProcs waits until GOMAXPROCS is n, for at most a few lingers.
func waitProcs(t *testing.T, what string, n int) {
	t.Helper()
	deadline := time.Now().Add(100 * lingerFor)
	for runtime.GOMAXPROCS(0) != n && time.Now().Before(deadline) {
		time.Sleep(lingerFor / 10)
	}
	wantProcs(t, what, n)
}

func wantProcs(t *testing.T, what string, n int) {
	t.Helper()
	if got := runtime.GOMAXPROCS(0); got != n {
		t.Fatalf("%s: GOMAXPROCS %d, want %d", what, got, n)
	}
}

// TestNarrowWidenRestore: Narrow serves with n processors, leases widen to
// what there was until the last is given back, and restore puts it back.
func TestNarrowWidenRestore(t *testing.T) {
	withProcs(t, 4)
	restore := Narrow(1)
	wantProcs(t, "narrowed", 1)
	if w := Wide(); w != 4 {
		t.Fatalf("Wide = %d while narrowed, want 4", w)
	}
	a, b := Widen(), Widen()
	wantProcs(t, "two leases", 4)
	a()
	a() // a second release of one lease gives back nothing more
	wantProcs(t, "one lease left", 4)
	b()
	wantProcs(t, "right after the last lease (it lingers)", 4)
	waitProcs(t, "a linger after the last lease", 1)
	Narrow(2)() // narrowed already: it neither narrows nor restores
	wantProcs(t, "second Narrow undone", 1)
	restore()
	wantProcs(t, "restored", 4)
	if w := Wide(); w != 4 {
		t.Fatalf("Wide = %d after restore, want 4", w)
	}
}

// TestLeaseWithinLinger: a lease taken while the process lingers wide
// keeps it wide with no change, and the linger of its release narrows it.
func TestLeaseWithinLinger(t *testing.T) {
	withProcs(t, 4)
	defer Narrow(1)()
	Widen()()
	again := Widen() // within the linger of the first
	time.Sleep(3 * lingerFor)
	wantProcs(t, "a lease held past the first one's linger", 4)
	again()
	waitProcs(t, "the second lease's linger", 1)
}

// TestRestoreDuringLease: restoring while a lease is held leaves the
// process wide, and the lease's release then changes nothing.
func TestRestoreDuringLease(t *testing.T) {
	withProcs(t, 3)
	restore := Narrow(1)
	release := Widen()
	restore()
	wantProcs(t, "restored under a lease", 3)
	release()
	wantProcs(t, "lease released after restore", 3)
}

// TestNarrowBounds: Narrow keeps at least one processor and never more
// than there were.
func TestNarrowBounds(t *testing.T) {
	withProcs(t, 2)
	Narrow(0)()
	wantProcs(t, "after Narrow(0) and restore", 2)
	restore := Narrow(0)
	wantProcs(t, "Narrow(0)", 1)
	restore()
	restore = Narrow(8)
	wantProcs(t, "Narrow(8) of 2", 2)
	restore()
}

// TestNarrowDefersToEnvironment: with GOMAXPROCS set by the operator,
// Narrow and Widen leave the setting alone.
func TestNarrowDefersToEnvironment(t *testing.T) {
	withProcs(t, 3)
	t.Setenv("GOMAXPROCS", "3")
	restore := Narrow(1)
	wantProcs(t, "GOMAXPROCS=3 in the environment", 3)
	Widen()()
	wantProcs(t, "after a lease", 3)
	restore()
	wantProcs(t, "after restore", 3)
}
