// Package cursorfs holds the files of the msb-logfs filesystem and the
// state of their open handles, over the views of package engine, without
// any FUSE import, so that it can be tested without a mount. It is the one
// owner of per-file and per-directory behaviour. A Dir (the root, a
// sandbox's directory, its sessions directory, a session's directory) has
// List, Lookup and Stat; Lookup finds a Dir or a Node; a Node has Stat
// (what stat by name shows) and Open, which returns a Handle (Read, Write,
// Stat for fstat, Close, and the open flags the kernel needs). Each kind
// of directory is one entry of the dirKinds table (dirkinds.go), each Kind
// of file one entry of the kinds table (kinds.go); the FUSE adapter never
// switches on them. Inode numbers, directory times and the errno of every
// error (errors.go) are decided here too, and which files the kernel may
// cache: a snapshot's node pinned to one state is its own inode, whose
// attributes and pages never change (state.go, docs/caching.md).
//
// The handles:
//
//   - snapshotHandle: a view fixed at its open; reads at any offset give
//     the same bytes and its size and times never change.
//   - followHandle: the view as of the open, then every entry appended
//     after it. A read below the handle's current length returns at once;
//     at the end it takes in what was appended, and if there is still
//     nothing it fails with EAGAIN (non-blocking) or blocks until the
//     sandbox changes, the request is interrupted (EINTR) or the filesystem
//     shuts down (EOF).
//   - liveHandle: a follow handle whose read at the end returns end of
//     file at once, and whose size grows as it takes in appended entries.
//   - seekHandle: a server-side position in merged.jsonl that each written
//     line (a cursor, "start", "end" or an RFC 3339 time) moves.
//   - bytesHandle: content read whole at open (cursor, boot-error.json).
//
// FS ties them to one home, decides owners and modes (owners.go), and owns
// the shutdown channel that ends every blocked read at unmount. Files and
// sessionFiles describe the names a sandbox and a session directory show,
// and which are listed.
package cursorfs

import (
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// FS is the filesystem-wide state: the home and the shutdown signal.
// Safe for concurrent use.
type FS struct {
	home     *engine.Home
	owners   owners
	listAll  bool
	recent   *recentSessions
	listings *listings
	root     rootRecord
	shutdown chan struct{}
	once     sync.Once
}

// New returns the handle state of a filesystem over home.
func New(home *engine.Home) *FS {
	f := &FS{home: home, recent: newRecentSessions(), listings: newListings(time.Now), shutdown: make(chan struct{})}
	f.owners = newOwners(f)
	return f
}

// SetListAll makes the sandbox and session directories list the follow
// and live files and seek too (on), or only the files that never block a
// reader (off, the default): tools that walk the tree (grep -r, tar,
// rsync, find) must never open a file whose reads block. Call it before
// serving.
func (f *FS) SetListAll(on bool) { f.listAll = on }

// Shutdown wakes every blocked follow reader with end-of-file; later reads
// at the end of a follow handle return end-of-file at once. It is the first
// step of an unmount: without blocked readers the kernel lets it proceed.
func (f *FS) Shutdown() { f.once.Do(func() { close(f.shutdown) }) }

// shutDown reports whether Shutdown was called.
func (f *FS) shutDown() bool {
	select {
	case <-f.shutdown:
		return true
	default:
		return false
	}
}
