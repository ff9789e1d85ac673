package engine

import (
	"sort"
	"sync/atomic"
	"time"
)

// defaultIdleAfter is how long a sandbox's state — its shown file set, its
// indexes and their render caches — is kept after its last use. Handles
// never depend on it: each holds its own files and cache reference.
const defaultIdleAfter = 3 * time.Second

// defaultMaxLive bounds how many sandboxes hold state at once: past it,
// the least recently used give theirs up at once. Each holds one descriptor
// per log file it reads: 3 to 7 (exec.log and up to four rotated files,
// runtime.log, kernel.log).
const defaultMaxLive = 64

// hold marks s as held by a handle until the returned release is called
// (once; later calls do nothing).
func (s *Sandbox) hold() (release func()) {
	s.holds.Add(1)
	s.touch()
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			s.holds.Add(-1)
			s.touch()
		}
	}
}

// touch records a use of s now, and of its home.
func (s *Sandbox) touch() {
	now := s.home.now().UnixNano()
	s.lastUse.Store(now)
	s.home.lastUse.Store(now)
}

// idle reports whether s was last used the home's idle time or more
// before now.
func (s *Sandbox) idle(now time.Time) bool {
	return now.UnixNano()-s.lastUse.Load() >= int64(s.home.idleAfter)
}

// gotState records that s holds state now and, when that takes the live
// set past the home's bound, takes state from the least recently used
// others at once (the busy ones skipped), in the caller: what it costs
// follows the live set, never the home's map. Called with s.mu held.
func (s *Sandbox) gotState() {
	h := s.home
	h.mu.Lock()
	h.live[s] = struct{}{}
	over := len(h.live) > h.maxLive
	h.mu.Unlock()
	if over {
		h.dropOldest()
	}
}

// dropOldest takes state from the least recently used sandbox of the
// live set while it is past the home's bound: one scan of the set, no
// sort, as a walk takes the set past it by one at each new sandbox. If
// that one is busy, dropExcess does the rest.
func (h *Home) dropOldest() {
	for {
		h.mu.Lock()
		var oldest *Sandbox
		if len(h.live) > h.maxLive {
			for s := range h.live {
				if oldest == nil || s.lastUse.Load() < oldest.lastUse.Load() {
					oldest = s
				}
			}
		}
		h.mu.Unlock()
		if oldest == nil {
			return
		}
		if !oldest.tryDropState() {
			h.dropExcess(h.now())
			return
		}
	}
}

// dropState parks a summary of the indexes of s (see park), releases the
// shown file set and the indexes, and takes s out of the live set. Called
// with s.mu held.
func (s *Sandbox) dropState() {
	s.park()
	s.shown.Release()
	s.shown = nil
	for k, x := range s.indexes {
		x.Release()
		delete(s.indexes, k)
	}
	clear(s.upTo)
	s.home.mu.Lock()
	delete(s.home.live, s)
	s.home.mu.Unlock()
}

// sweeper runs sweep every half idle time until the home closes.
func (h *Home) sweeper() {
	defer h.sweepWG.Done()
	t := time.NewTicker(max(h.idleAfter/2, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-h.sweepDone:
			return
		case <-t.C:
			h.sweep()
		}
	}
}

// sweep takes state away from idle sandboxes and from the least recently
// used ones past the home's bound, then forgets the sandboxes that hold
// nothing. A sandbox busy now (its lock taken) is in use, hence not idle:
// it is skipped, so the sweep never waits for a request. The map it walks
// holds the sandboxes used in the last idle time, so each use is walked
// over a bounded number of times before it is forgotten. Once the home is
// idle after a use, it gives back what the use left (releaseMemory).
func (h *Home) sweep() {
	now := h.now()
	h.dropExcess(now)
	h.forgetIdle(now)
	h.releaseIdleMemory(now)
}

// releaseIdleMemory gives the memory of what the requests since the last
// release let go back to the system (releaseMemory), once no sandbox
// holds state and none was used for the idle time: a walk answered from
// parked summaries takes no state, but leaves as much garbage as one that
// does.
func (h *Home) releaseIdleMemory(now time.Time) {
	last := h.lastUse.Load()
	if last <= h.releasedAt.Load() || now.UnixNano()-last < int64(h.idleAfter) || liveNow(h) > 0 {
		return
	}
	if h.releasedAt.Swap(last) < last { // not by a sweep at the same time
		h.releaseMemory()
	}
}

// dropExcess takes state away from the idle sandboxes that hold it and
// from the least recently used past the home's bound, and returns how
// many gave it up.
func (h *Home) dropExcess(now time.Time) int {
	live := h.liveByAge()
	dropped := 0
	for i, s := range live {
		if (s.idle(now) || len(live)-i > h.maxLive) && s.tryDropState() {
			dropped++
		}
	}
	return dropped
}

// liveNow returns how many sandboxes hold state.
func liveNow(h *Home) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.live)
}

// liveByAge returns the sandboxes holding state, least recently used first.
func (h *Home) liveByAge() []*Sandbox {
	h.mu.Lock()
	list := make([]*Sandbox, 0, len(h.live))
	for s := range h.live {
		list = append(list, s)
	}
	h.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].lastUse.Load() < list[j].lastUse.Load() })
	return list
}

// tryDropState drops the state of s unless s is busy.
func (s *Sandbox) tryDropState() bool {
	if !s.mu.TryLock() {
		return false
	}
	defer s.mu.Unlock()
	s.dropState()
	return true
}

// forgetIdle removes from the map the idle sandboxes that no handle holds
// and that hold no state, and their inotify watches: a later lookup makes
// a fresh one, watched again at its first Changed. The watches are removed
// under h.mu, as Home.watch adds them, so a new sandbox's watch is never
// removed.
func (h *Home) forgetIdle(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, s := range h.sandboxes {
		if _, busy := h.live[s]; !busy && s.holds.Load() == 0 && s.idle(now) {
			delete(h.sandboxes, name)
			if s.watched {
				h.watcher.unwatchSandbox(s)
			}
		}
	}
	for name, seen := range h.dirSeen {
		if now.Sub(seen.at) >= HoldFor {
			delete(h.dirSeen, name)
		}
	}
}

// reclaim gives back every descriptor that state holds: called when an
// open fails for want of descriptors (EMFILE, ENFILE), before one retry.
// Sandboxes busy now are skipped (the caller's own among them).
func (h *Home) reclaim() {
	for _, s := range h.liveByAge() {
		s.tryDropState()
	}
}
