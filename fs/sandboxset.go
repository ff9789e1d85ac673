package fs

import (
	"cmp"
	"slices"
	"sync"
)

// sandboxSet is the set of sandbox directories the kernel knows: a scope
// joins when its directory is looked up, and leaves when the kernel
// forgets it. Past bound directories in use (not dropped since their last
// use), the least recently used are dropped before their interval.
type sandboxSet struct {
	bound int // 0: none

	mu      sync.Mutex
	all     map[*scope]struct{}
	lookups int64 // lookups of sandbox directories, which order those used in one tick
	joined  int   // directories joined since the last pass over the bound
}

// add puts sc in the set at a lookup of its directory, and reports whether
// a pass over the bound is due: the set holds more than bound directories
// and a quarter of bound joined since the last pass.
func (s *sandboxSet) add(sc *scope) (due bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all == nil {
		s.all = make(map[*scope]struct{})
	}
	if _, ok := s.all[sc]; !ok {
		s.all[sc] = struct{}{}
		s.joined++
	}
	s.lookups++
	sc.looked = s.lookups
	return s.bound > 0 && len(s.all) > s.bound && s.joined >= max(1, s.bound/4)
}

func (s *sandboxSet) remove(sc *scope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.all, sc)
}

// len returns how many sandbox directories the set holds.
func (s *sandboxSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.all)
}

// idle appends to out the scopes unused for after ticks at tick now and
// not dropped since their last use, and marks them dropped.
func (s *sandboxSet) idle(now, after int64, out []*scope) []*scope {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sc := range s.all {
		used := sc.used.Load()
		if now-used >= after && used != sc.notified {
			sc.notified = used
			out = append(out, sc)
		}
	}
	return out
}

// overflow appends to out, when more than bound directories are in use,
// the least recently used of them down to three quarters of bound, and
// marks them dropped.
func (s *sandboxSet) overflow(out []*scope) []*scope {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.joined = 0
	type use struct {
		sc         *scope
		used, seen int64
	}
	var inUse []use
	for sc := range s.all {
		if used := sc.used.Load(); used != sc.notified {
			inUse = append(inUse, use{sc, used, sc.looked})
		}
	}
	if s.bound <= 0 || len(inUse) <= s.bound {
		return out
	}
	slices.SortFunc(inUse, func(a, b use) int {
		return cmp.Or(cmp.Compare(a.used, b.used), cmp.Compare(a.seen, b.seen))
	})
	for _, u := range inUse[:len(inUse)-s.bound*3/4] {
		u.sc.notified = u.used
		out = append(out, u.sc)
	}
	return out
}
