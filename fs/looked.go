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
// new one when the state changed); the second, and the open's, are
// answered so.
// Such a lookup does not renew the name: the next lookup namesLookedFor
// after the one noted sees what a stat sees. It holds the last recentCap
// names looked up.
//
// The same names tell the threads that stat or open what they list (du,
// ls -l, grep -r, cp -r, tar, rsync) from those that only list (find,
// ls): a thread that looked a file up in the last lookerFor is one
// (looker). A sandbox's or a session's listing read by one of them gives
// the files' entries (dirHandle.Lookup), which saves it a LOOKUP per file;
// read by any other thread it gives none, which saves the mount a stat
// and the kernel an inode per file that would never be used. That is a
// hint: a thread wrongly taken for one or the other costs time, never a
// wrong answer.
type namesLooked struct {
	names recentTable[nameLooked]
}

// nameLooked is a name of a directory a thread looked up.
type nameLooked struct {
	tid  int
	dir  *dirNode
	name string
}

// lookerFor is how long a thread stays a looker without a lookup of a
// file. A walker given its files' entries makes none, and is one again
// after the first sandbox whose listing then gives it none.
const lookerFor = time.Second

// namesLookedFor is how long after a thread's stat its open's lookup gets
// the stat's state: as long as the engine keeps that state for opens. The
// gap between tar's lstat and open is microseconds, and a loaded machine
// may stretch it.
const namesLookedFor = engine.HoldFor

// saw notes that thread tid (0: unknown, not noted) looked name up in dir
// at now, as a stat.
func (l *namesLooked) saw(tid int, dir *dirNode, name string, now time.Time) {
	if tid != 0 {
		l.names.note(nameLooked{tid, dir, name}, now)
	}
}

// recent reports whether thread tid's lookup of name in dir that saw
// noted was less than namesLookedFor before now.
func (l *namesLooked) recent(tid int, dir *dirNode, name string, now time.Time) bool {
	return tid != 0 && l.names.within(nameLooked{tid, dir, name}, namesLookedFor, now)
}

// looker reports whether thread tid looked a file up, as a stat, less than
// lookerFor before now.
func (l *namesLooked) looker(tid int, now time.Time) bool {
	return tid != 0 && l.names.any(lookerFor, now, func(n nameLooked) bool { return n.tid == tid })
}
