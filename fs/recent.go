package fs

import (
	"sync"
	"time"
)

// recentTable holds at most recentCap keys, each with the time it was
// last noted and a value; noting a new key gives up the one noted least
// recently. Safe for concurrent use. lookers and namesLooked are made of
// it: a few threads or names a request asks about, never a list that
// grows with the files.
type recentTable[K comparable, V any] struct {
	mu      sync.Mutex
	entries [recentCap]recentEntry[K, V]
}

// recentEntry is a key of a recentTable, when it was noted, and its value.
type recentEntry[K comparable, V any] struct {
	key K
	at  time.Time
	val V
	set bool
}

const recentCap = 64

// note notes key at now with value val.
func (r *recentTable[K, V]) note(key K, val V, now time.Time) {
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
	r.entries[slot] = recentEntry[K, V]{key: key, at: now, val: val, set: true}
}

// within calls fn with key's value if key was noted less than d before
// now, and returns what fn returns; false if it was not. fn may change
// the value; it runs with the table locked.
func (r *recentTable[K, V]) within(key K, d time.Duration, now time.Time, fn func(val *V) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.entries {
		e := &r.entries[i]
		if e.set && e.key == key {
			if age := now.Sub(e.at); age < 0 || age >= d {
				return false
			}
			return fn(&e.val)
		}
	}
	return false
}
