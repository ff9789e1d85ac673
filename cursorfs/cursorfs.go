// Package cursorfs holds the files of the msb-logfs filesystem and the
// state of their open handles, over the views of package engine, without
// any FUSE import, so that it can be tested without a mount. It is the one
// owner of per-file behaviour: FS.Lookup resolves a name of a sandbox
// directory to a Node; a Node has Stat (what stat by name shows) and Open,
// which returns a Handle (Read, Write, Stat for fstat, Close, and the open
// flags the kernel needs). Each Kind of file is one entry of the kinds
// table (kinds.go); the FUSE adapter never switches on it.
//
// The handles:
//
//   - Snapshot: a view fixed at its open; reads at any offset give the same
//     bytes and its size and times never change.
//   - Follow: the view as of the open, then every entry appended after it.
//     A read below the handle's current length returns at once; at the end
//     it takes in what was appended, and if there is still nothing it fails
//     with EAGAIN (non-blocking) or blocks until the sandbox changes, the
//     request is interrupted (EINTR) or the filesystem shuts down (EOF).
//   - Live: a follow handle whose read at the end returns end of file at
//     once, and whose size grows as it takes in appended entries.
//   - Seek: a server-side position in merged.jsonl that each written line
//     (a cursor, "start", "end" or an RFC 3339 time) moves.
//   - Bytes: content read whole at open (cursor, boot-error.json).
//
// FS ties them to one home, decides owners and modes (owners.go), and owns
// the shutdown channel that ends every blocked read at unmount. Files
// describes the names a sandbox directory shows, and which are listed.
package cursorfs

import (
	"errors"
	"io"
	"sync"
	"syscall"

	"github.com/microsandbox/msb-logfs/engine"
)

// FS is the filesystem-wide state: the home and the shutdown signal.
// Safe for concurrent use.
type FS struct {
	home     *engine.Home
	owners   owners
	recent   *recentSessions
	shutdown chan struct{}
	once     sync.Once
}

// New returns the handle state of a filesystem over home.
func New(home *engine.Home) *FS {
	f := &FS{home: home, recent: newRecentSessions(), shutdown: make(chan struct{})}
	f.owners = newOwners(f)
	return f
}

// Home returns the home the filesystem shows.
func (f *FS) Home() *engine.Home { return f.home }

// Shutdown wakes every blocked follow reader with end-of-file; later reads
// at the end of a follow handle return end-of-file at once. It is the first
// step of an unmount: without blocked readers the kernel lets it proceed.
func (f *FS) Shutdown() { f.once.Do(func() { close(f.shutdown) }) }

// Done returns a channel closed by Shutdown.
func (f *FS) Done() <-chan struct{} { return f.shutdown }

// shutDown reports whether Shutdown was called.
func (f *FS) shutDown() bool {
	select {
	case <-f.shutdown:
		return true
	default:
		return false
	}
}

// Errno maps an error of a handle to the errno a read or write returns:
// nil and io.EOF are 0, a syscall.Errno is itself, an invalid cursor or time
// is EINVAL, a missing sandbox or session ENOENT, anything else EIO.
func Errno(err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return 0
	case errors.As(err, &errno):
		return errno
	case errors.Is(err, engine.ErrInvalidCursor), errors.Is(err, ErrBadPosition):
		return syscall.EINVAL
	case errors.Is(err, engine.ErrNoSandbox), errors.Is(err, engine.ErrNoSession):
		return syscall.ENOENT
	}
	return syscall.EIO
}
