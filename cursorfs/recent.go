package cursorfs

import (
	"errors"
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// sessions that leave the exec chain. A session whose entries have all
// rotated out of exec.log.4 is no longer listed, but a tool that walks the
// tree (grep -r, tar, rsync) may have listed it a moment before and visit
// it now. So a session the filesystem has shown stays reachable by name
// for sessionGrace after it was last seen: its directory as it was last
// seen (info as then), its view files empty. An id never seen is ENOENT.

// sessionGrace is how long a session that left the chain stays reachable.
const sessionGrace = 5 * time.Minute

// maxRecent bounds how many sessions recentSessions keeps: past it, those
// not seen within sessionGrace are dropped, and if that is not enough, all.
const maxRecent = 1 << 16

// recentSessions remembers the sessions shown lately. Safe for concurrent
// use.
type recentSessions struct {
	now func() time.Time

	mu sync.Mutex
	m  map[recentKey]recentSession
}

type recentKey struct {
	sandbox string
	id      uint64
}

type recentSession struct {
	info engine.SessionInfo
	seen time.Time
}

func newRecentSessions() *recentSessions {
	return &recentSessions{now: time.Now, m: make(map[recentKey]recentSession)}
}

// saw records sessions of sandbox as seen now. A session listed without
// its cursor (engine.Sandbox.Sessions) keeps the cursor recorded before if
// it has not changed since.
func (r *recentSessions) saw(sandbox string, list ...engine.SessionInfo) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m)+len(list) > maxRecent {
		r.dropOld(now, len(list))
	}
	for _, si := range list {
		k := recentKey{sandbox, si.ID}
		if old, ok := r.m[k]; ok && si.Cursor == (engine.Cursor{}) && old.info.Entries == si.Entries && old.info.Last == si.Last {
			si.Cursor = old.info.Cursor
		}
		r.m[k] = recentSession{si, now}
	}
}

// dropOld drops the sessions not seen within sessionGrace, or all of them
// if that leaves no room for more.
func (r *recentSessions) dropOld(now time.Time, more int) {
	for k, s := range r.m {
		if now.Sub(s.seen) >= sessionGrace || now.Before(s.seen) {
			delete(r.m, k)
		}
	}
	if len(r.m)+more > maxRecent {
		clear(r.m)
	}
}

// gone returns session id of sandbox as last seen, if that was within
// sessionGrace.
func (r *recentSessions) gone(sandbox string, id uint64) (engine.SessionInfo, bool) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[recentKey{sandbox, id}]
	if !ok || now.Sub(s.seen) >= sessionGrace || now.Before(s.seen) {
		return engine.SessionInfo{}, false
	}
	return s.info, true
}

// goneSession reports whether err says that n's session is no longer in
// the logs while it is still within its grace: its views are then empty,
// with the time of its last entry.
func (n *Node) goneSession(err error) (time.Time, bool) {
	if n.session == nil || !errors.Is(err, engine.ErrNoSession) {
		return time.Time{}, false
	}
	si, ok := n.fs.recent.gone(n.sandbox, *n.session)
	return goTime(si.Last), ok
}
