package fs

import (
	"sync"
	"time"
)

// recentTable holds at most recentCap keys, each with the time it was
// last noted; noting a new key gives up the one noted least recently.
// Safe for concurrent use. namesLooked is made of it: a few names a
// request asks about, never a list that grows with the files.
type recentTable[K comparable] struct {
	mu      sync.Mutex
	entries [recentCap]recentEntry[K]
}

// recentEntry is a key of a recentTable and when it was noted.
type recentEntry[K comparable] struct {
	key K
	at  time.Time
	set bool
}

const recentCap = 64

// note notes key at now.
func (r *recentTable[K]) note(key K, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	slot := 0
	for i, e := range r.entries {
		if e.set && e.key == key {
			slot = i
			break
		}
		if !e.set || e.at.Before(r.entries[slot].at) && r.entries[slot].set {
			slot = i
		}
	}
	r.entries[slot] = recentEntry[K]{key: key, at: now, set: true}
}

// within reports whether key was noted less than d before now.
func (r *recentTable[K]) within(key K, d time.Duration, now time.Time) bool {
	return r.any(d, now, func(k K) bool { return k == key })
}

// any reports whether a key that match accepts was noted less than d
// before now.
func (r *recentTable[K]) any(d time.Duration, now time.Time, match func(K) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.entries {
		if age := now.Sub(e.at); e.set && age >= 0 && age < d && match(e.key) {
			return true
		}
	}
	return false
}
