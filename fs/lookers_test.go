package fs

import (
	"sync"
	"testing"
	"time"
)

// TestLookers: a thread that looked a file up is one for lookerFor after
// its last lookup, an unknown thread (0) never is, and the table keeps
// the recentCap threads seen last, giving up the least recently seen.
func TestLookers(t *testing.T) {
	var l lookers
	t0 := time.Unix(1000, 0)
	if l.recent(7, t0) {
		t.Fatal("a thread never seen is a looker")
	}
	l.saw(7, t0)
	l.saw(0, t0)
	for _, c := range []struct {
		tid  int
		at   time.Duration
		want bool
	}{
		{7, 0, true}, {7, lookerFor - time.Nanosecond, true}, {7, lookerFor, false},
		{7, -time.Second, false}, // a clock that went back: not trusted
		{0, 0, false}, {8, 0, false},
	} {
		if got := l.recent(c.tid, t0.Add(c.at)); got != c.want {
			t.Errorf("thread %d, %v after its lookup: looker %v, want %v", c.tid, c.at, got, c.want)
		}
	}
	l.saw(7, t0.Add(lookerFor))
	if !l.recent(7, t0.Add(lookerFor+time.Millisecond)) {
		t.Error("a second lookup does not renew the thread")
	}

	for i := range recentCap {
		l.saw(100+i, t0.Add(2*lookerFor+time.Duration(i)))
	}
	now := t0.Add(2*lookerFor + recentCap)
	if l.recent(7, now) {
		t.Errorf("thread 7 kept after %d newer threads were seen", recentCap)
	}
	for i := range recentCap {
		if !l.recent(100+i, now) {
			t.Errorf("thread %d of the last %d seen was given up", 100+i, recentCap)
		}
	}
}

// TestLookersConcurrent: saw and recent may be called from any request's
// goroutine (go test -race).
func TestLookersConcurrent(t *testing.T) {
	var l lookers
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				tid := g*1000 + i%40 + 1
				l.saw(tid, time.Now())
				l.recent(tid, time.Now())
			}
		})
	}
	wg.Wait()
	l.saw(99999, time.Now())
	if !l.recent(99999, time.Now()) {
		t.Error("a thread seen after the others is not a looker")
	}
}
