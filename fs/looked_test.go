package fs

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestNamesLooked: the lookups that follow a thread's lookup of a name as
// a stat, within namesLookedFor, are answered as an open (both lookups of
// a stat whose state changed, and the open's); they do not renew it.
// Another thread, another directory, another name, an unknown thread (0)
// and a lookup namesLookedFor later are not; the table keeps the last
// recentCap names.
func TestNamesLooked(t *testing.T) {
	var l namesLooked
	d1, d2 := &dirNode{}, &dirNode{}
	t0 := time.Unix(1000, 0)
	l.saw(7, d1, "merged", t0)
	for _, c := range []struct {
		tid  int
		dir  *dirNode
		name string
	}{{8, d1, "merged"}, {7, d2, "merged"}, {7, d1, "stdout"}, {0, d1, "merged"}} {
		if l.recent(c.tid, c.dir, c.name, t0) {
			t.Errorf("thread %d, %s in another directory (%v): taken for the open of thread 7's stat of merged", c.tid, c.name, c.dir != d1)
		}
	}
	for _, at := range []time.Duration{0, time.Millisecond, namesLookedFor - time.Nanosecond} {
		if !l.recent(7, d1, "merged", t0.Add(at)) {
			t.Errorf("a lookup %v after the stat is not taken for its open", at)
		}
	}
	if l.recent(7, d1, "merged", t0.Add(namesLookedFor)) {
		t.Error("a lookup namesLookedFor after the stat was taken for its open: the lookups before renewed it")
	}
	l.saw(7, d1, "merged", t0.Add(2*time.Second))
	if l.recent(7, d1, "merged", t0.Add(2*time.Second-time.Millisecond)) {
		t.Error("a lookup before the stat (a clock that went back) was taken for its open")
	}
	l.saw(0, d1, "merged", t0)
	if l.recent(0, d1, "merged", t0) {
		t.Error("an unknown thread was noted")
	}

	for i := range recentCap {
		l.saw(100+i, d2, "merged", t0.Add(3*time.Second+time.Duration(i)))
	}
	now := t0.Add(3*time.Second + recentCap)
	if l.recent(7, d1, "merged", now) {
		t.Errorf("thread 7's name kept after %d newer ones", recentCap)
	}
	for i := range recentCap {
		if !l.recent(100+i, d2, "merged", now) {
			t.Errorf("thread %d, one of the last %d names looked up, was given up", 100+i, recentCap)
		}
	}
}

// TestLookers: a thread that looked a file up is a looker for lookerFor
// after its last lookup noted as a stat, an unknown thread (0) never is,
// and a thread whose names were all given up for newer ones is not.
func TestLookers(t *testing.T) {
	var l namesLooked
	d := &dirNode{}
	t0 := time.Unix(1000, 0)
	if l.looker(7, t0) {
		t.Fatal("a thread never seen is a looker")
	}
	l.saw(7, d, "merged", t0)
	l.saw(0, d, "merged", t0)
	for _, c := range []struct {
		tid  int
		at   time.Duration
		want bool
	}{
		{7, 0, true}, {7, lookerFor - time.Nanosecond, true}, {7, lookerFor, false},
		{7, -time.Second, false}, // a clock that went back: not trusted
		{0, 0, false}, {8, 0, false},
	} {
		if got := l.looker(c.tid, t0.Add(c.at)); got != c.want {
			t.Errorf("thread %d, %v after its lookup: looker %v, want %v", c.tid, c.at, got, c.want)
		}
	}
	l.saw(7, d, "stdout", t0.Add(lookerFor))
	if !l.looker(7, t0.Add(lookerFor+time.Millisecond)) {
		t.Error("a lookup of another file does not renew the thread")
	}

	for i := range recentCap {
		l.saw(100+i, d, "merged", t0.Add(2*lookerFor+time.Duration(i)))
	}
	now := t0.Add(2*lookerFor + recentCap)
	if l.looker(7, now) {
		t.Errorf("thread 7 is a looker after its names were given up for %d newer ones", recentCap)
	}
	for i := range recentCap {
		if !l.looker(100+i, now) {
			t.Errorf("thread %d of the last %d seen was given up", 100+i, recentCap)
		}
	}
}

// TestNamesLookedConcurrent: saw, recent and looker may be called from any
// request's goroutine (go test -race).
func TestNamesLookedConcurrent(t *testing.T) {
	var l namesLooked
	d := &dirNode{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				tid, name := g*1000+i%40+1, "f"+strconv.Itoa(i%7)
				l.saw(tid, d, name, time.Now())
				l.recent(tid, d, name, time.Now())
				l.looker(tid, time.Now())
			}
		})
	}
	wg.Wait()
	l.saw(99999, d, "merged", time.Now())
	if !l.looker(99999, time.Now()) || !l.recent(99999, d, "merged", time.Now()) {
		t.Error("a thread that looked a name up after the others is not known")
	}
}
