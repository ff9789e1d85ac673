package fs

import (
	"testing"
	"time"
)

// TestNamesLooked: the lookup after a thread's lookup of a name, within
// namesLookedFor, is paired with it once; the one after that is not (it
// is a stat again) until the thread looks the name up again; another
// thread, another directory, another name, an unknown thread (0) and a
// lookup namesLookedFor later are not paired; the table keeps the last
// namesLookedCap names.
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
		if l.pair(c.tid, c.dir, c.name, t0) {
			t.Errorf("thread %d, %s in another directory (%v): paired with thread 7's lookup of merged", c.tid, c.name, c.dir != d1)
		}
	}
	if !l.pair(7, d1, "merged", t0.Add(namesLookedFor-time.Nanosecond)) {
		t.Fatal("the lookup right after a stat is not paired with it")
	}
	if l.pair(7, d1, "merged", t0.Add(time.Millisecond)) {
		t.Fatal("a second lookup was paired with the same stat")
	}
	l.saw(7, d1, "merged", t0.Add(time.Second))
	if l.pair(7, d1, "merged", t0.Add(time.Second+namesLookedFor)) {
		t.Error("a lookup namesLookedFor after the stat was paired")
	}
	l.saw(7, d1, "merged", t0.Add(2*time.Second))
	if l.pair(7, d1, "merged", t0.Add(2*time.Second-time.Millisecond)) {
		t.Error("a lookup before the stat (a clock that went back) was paired")
	}
	l.saw(0, d1, "merged", t0)
	if l.pair(0, d1, "merged", t0) {
		t.Error("an unknown thread was noted")
	}

	for i := range namesLookedCap {
		l.saw(100+i, d2, "merged", t0.Add(3*time.Second+time.Duration(i)))
	}
	now := t0.Add(3*time.Second + namesLookedCap)
	for i := range namesLookedCap {
		if !l.pair(100+i, d2, "merged", now) {
			t.Errorf("thread %d, one of the last %d names looked up, was given up", 100+i, namesLookedCap)
		}
	}
}
