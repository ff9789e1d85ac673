package fs

import (
	"log/slog"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
)

// defaultForgetIdle is how long a sandbox's directory goes unused before
// the mount tells the kernel to drop its entry (Options.ForgetIdle).
const defaultForgetIdle = 5 * time.Second

// defaultForgetBeyond is how many sandbox directories in use the kernel
// may know before the least recently used are dropped sooner
// (Options.ForgetBeyond).
const defaultForgetBeyond = 2000

// scope is what the directory of one sandbox and every node under it
// share: the mount's state, and when a request last used any of them. The
// root has a scope of its own, with no directory.
type scope struct {
	*state
	dir      *dirNode     // the sandbox's directory; nil for the root's scope
	name     string       // the sandbox's name in the root
	used     atomic.Int64 // the tick of the mount's clock at the last request
	notified int64        // used when its entry was last dropped; guarded by state.boxes.mu
	looked   int64        // the set's count of lookups at the last of its directory; guarded by state.boxes.mu
}

// newScope returns the scope of the sandbox name, used now.
func newScope(st *state, name string) *scope {
	sc := &scope{state: st, name: name, notified: -1}
	sc.used.Store(st.clock.Load())
	return sc
}

// touch records a request on the sandbox's directory or under it.
func (sc *scope) touch() {
	now := sc.clock.Load()
	if sc.used.Load() != now { // a store only once a tick: requests do not contend
		sc.used.Store(now)
	}
}

// idleClock is the schedule of the goroutine that drops idle entries: a
// tick every period, and a directory idle once unused for after ticks.
type idleClock struct {
	period time.Duration
	after  int64
}

// clockFor returns the schedule that drops a directory unused for at least
// idle: about five ticks per interval, at most one a second.
func clockFor(idle time.Duration) idleClock {
	period := min(max(idle/5, 10*time.Millisecond), time.Second)
	// A use stamped with tick k happened before tick k+1 began.
	return idleClock{period: period, after: int64((idle+period-1)/period) + 1}
}

// dropIdle tells the kernel, every tick, to drop the entries of the
// sandbox directories unused for the interval, and every tick and when
// woken, those of the least recently used past the set's bound: its
// d_invalidate prunes the unused entries under them and forgets their
// inodes, and go-fuse drops their nodes. What a process holds (a working directory, an open
// file) stays. It ends when served is closed, closing done. It never runs
// inside a request: the kernel takes the root's lock to drop an entry.
func (st *state) dropIdle(root *gofs.Inode, c idleClock, served <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(c.period)
	defer t.Stop()
	var idle []*scope
	for {
		select {
		case <-served:
			return
		case <-t.C:
			idle = st.boxes.idle(st.clock.Add(1), c.after, idle[:0])
			// Directories dropped and used again count as in use
			// without joining: the bound is checked at every tick too.
			idle = st.boxes.overflow(idle)
		case <-st.wake:
			idle = st.boxes.overflow(idle[:0])
		}
		for _, sc := range idle {
			st.drop(root, sc)
		}
		clear(idle) // keeps no scope past its forget
	}
}

// join puts sc in the set of known sandboxes at a lookup of its
// directory, and asks dropIdle for a pass over the set's bound when one is
// due (unless one is asked already).
func (st *state) join(sc *scope) {
	if !st.boxes.add(sc) {
		return
	}
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// drop tells the kernel to drop the entry of sc's directory, or forgets sc
// if its directory is in no directory: it never became known (a lookup
// that go-fuse answered with another node) or is forgotten already. A
// sandbox's directory the kernel knows stays in the root under its name:
// another node for that name would have its inode number.
func (st *state) drop(root *gofs.Inode, sc *scope) {
	if _, parent := sc.dir.Parent(); parent == nil {
		st.boxes.remove(sc)
		return
	}
	errno := root.NotifyEntry(sc.name)
	switch errno {
	case 0, syscall.ENOENT: // ENOENT: the kernel had dropped it already
	default:
		slog.Debug("drop an idle sandbox's entry", "sandbox", sc.name, "err", errno)
	}
}
