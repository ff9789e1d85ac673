package fs

import (
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// namesLooked remembers which names each thread looked up lately, for
// the lookup of an open that follows a stat of the same name by the same
// thread (tar: lstat, open, read, fstat; cp; Python's os.stat then open).
// Both are LOOKUPs, and a LOOKUP shows the state a stat would: when the
// stat came at the end of the engine's hold of a state and the sandbox has
// written since, the open's LOOKUP would show a newer state than the stat
// did. So the lookup that follows a thread's lookup of a name, within
// namesLookedFor, gets the state an open would show instead
// (cursorfs.Node.StatToOpen): the one the stat showed, which the engine
// keeps for opens for HoldFor after a stat. Lookups are paired in turn:
// the one after that is a stat again, and sees what a stat sees. It holds
// at most namesLookedCap names, the oldest given up first.
type namesLooked struct {
	mu    sync.Mutex
	names [namesLookedCap]nameLooked
}

// nameLooked is a name of a directory a thread looked up, and when; paired
// once the lookup after it was answered as an open.
type nameLooked struct {
	tid    int
	dir    *dirNode
	name   string
	at     time.Time
	paired bool
}

const (
	namesLookedCap = 64
	// namesLookedFor is how long after a thread's stat its open's lookup
	// gets the stat's state: as long as the engine keeps that state for
	// opens. The gap between tar's lstat and open is microseconds, and a
	// loaded machine may stretch it.
	namesLookedFor = engine.HoldFor
)

// saw notes that thread tid (0: unknown, not noted) looked name up in dir
// at now.
func (l *namesLooked) saw(tid int, dir *dirNode, name string, now time.Time) {
	if tid == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	slot := 0
	for i, e := range l.names {
		if e.tid == tid && e.dir == dir && e.name == name {
			slot = i
			break
		}
		if e.at.Before(l.names[slot].at) {
			slot = i
		}
	}
	l.names[slot] = nameLooked{tid: tid, dir: dir, name: name, at: now}
}

// pair reports whether thread tid looked name up in dir less than
// namesLookedFor before now, with no lookup paired with it yet, and pairs
// it.
func (l *namesLooked) pair(tid int, dir *dirNode, name string, now time.Time) bool {
	if tid == 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.names {
		if e.tid == tid && e.dir == dir && e.name == name {
			if d := now.Sub(e.at); e.paired || d < 0 || d >= namesLookedFor {
				return false
			}
			l.names[i].paired = true
			return true
		}
	}
	return false
}
