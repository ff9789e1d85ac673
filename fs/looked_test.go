package fs

import (
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
