package fs

import (
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// namesLooked remembers which names each thread looked up lately, for
// the lookup of an open that follows a stat of the same name by the same
// thread (tar: lstat, open, read, fstat; cp; Python's os.stat then open).
// Both are LOOKUPs, and a LOOKUP shows the state a stat would: when the
// stat came at the end of the engine's hold of a state and the sandbox has
// written since, the open's LOOKUP would show a newer state than the stat
// did. So the lookups that follow a thread's lookup of a name, within
// namesLookedFor, get the state an open would show instead
// (cursorfs.Node.StatToOpen): the one the stat showed, which the engine
// keeps for opens for HoldFor after a stat. The kernel may make two
// lookups for one stat (the first to check its entry, the second for a
// new one when the state changed); both, and the open's, are answered so.
// Such a lookup does not renew the name: the next lookup namesLookedFor
// after the one noted sees what a stat sees. It holds the last recentCap
// names looked up.
type namesLooked struct {
	names recentTable[nameLooked, struct{}]
}

// nameLooked is a name of a directory a thread looked up.
type nameLooked struct {
	tid  int
	dir  *dirNode
	name string
}

// namesLookedFor is how long after a thread's stat its open's lookup gets
// the stat's state: as long as the engine keeps that state for opens. The
// gap between tar's lstat and open is microseconds, and a loaded machine
// may stretch it.
const namesLookedFor = engine.HoldFor

// saw notes that thread tid (0: unknown, not noted) looked name up in dir
// at now, as a stat.
func (l *namesLooked) saw(tid int, dir *dirNode, name string, now time.Time) {
	if tid != 0 {
		l.names.note(nameLooked{tid, dir, name}, struct{}{}, now)
	}
}

// recent reports whether thread tid's lookup of name in dir that saw
// noted was less than namesLookedFor before now.
func (l *namesLooked) recent(tid int, dir *dirNode, name string, now time.Time) bool {
	return tid != 0 && l.names.within(nameLooked{tid, dir, name}, namesLookedFor, now, func(*struct{}) bool { return true })
}
