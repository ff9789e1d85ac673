package fs

import (
	"context"
	"log/slog"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// fileNode is one file of a sandbox directory. It keeps its open handles so
// that an fstat, which reaches FUSE as a plain GETATTR without the file
// handle, can be answered with the caller's handle.
type fileNode struct {
	gofs.Inode
	readOnlyNode
	st      *state
	sandbox string
	file    cursorfs.File

	mu      sync.Mutex
	handles []handle // open, oldest first
}

var (
	_ gofs.NodeGetattrer = (*fileNode)(nil)
	_ gofs.NodeOpener    = (*fileNode)(nil)
	_ gofs.NodeSetattrer = (*fileNode)(nil)
)

// Getattr answers stat by name with the state an open now would show, and
// fstat with the caller's handle: a snapshot's fixed size and times, a
// follow handle's current length.
func (n *fileNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h := n.handleFor(ctx, f); h != nil {
		return n.attr(&out.Attr, h.size(), h.modTime())
	}
	return n.statByName(&out.Attr)
}

// handleFor returns the handle a GETATTR is about: the one it names, else
// the newest handle of this file that the calling process opened, else nil
// (a stat by name).
func (n *fileNode) handleFor(ctx context.Context, f gofs.FileHandle) handle {
	if h, ok := f.(handle); ok && n.st.rec.namedHandle(ctx) {
		return h
	}
	n.mu.Lock()
	none := len(n.handles) == 0
	n.mu.Unlock()
	if none {
		return nil
	}
	proc := callerProcess(ctx)
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := len(n.handles) - 1; i >= 0; i-- {
		if proc != 0 && n.handles[i].owner() == proc {
			return n.handles[i]
		}
	}
	return nil
}

// statByName fills the attributes an open now would show.
func (n *fileNode) statByName(a *fuse.Attr) syscall.Errno {
	size, mtime, err := n.stat()
	if err != nil {
		return errnoOf(err)
	}
	return n.attr(a, size, mtime)
}

func (n *fileNode) stat() (int64, time.Time, error) {
	if n.file.Kind == cursorfs.KindBootError {
		size, mt, err := cursorfs.StatBootError(n.st.home, n.sandbox)
		if err != nil {
			return 0, time.Time{}, syscall.ENOENT // missing, a link or not a regular file
		}
		return size, mt, nil
	}
	sb, err := n.st.sandbox(n.sandbox)
	if err != nil {
		return 0, time.Time{}, err
	}
	switch n.file.Kind {
	case cursorfs.KindSnapshot, cursorfs.KindFollow:
		st, err := sb.Stat(n.file.View)
		return st.Size, st.ModTime, err
	case cursorfs.KindCursor:
		mt, err := sb.ModTime()
		return cursorfs.CursorSize, mt, err
	}
	mt, err := sb.ModTime() // seek: a stream, no size
	return 0, mt, err
}

// attr fills the attributes of the file with size and mtime, and the owner
// and mode that the disk grants.
func (n *fileNode) attr(a *fuse.Attr, size int64, mtime time.Time) syscall.Errno {
	p, errno := n.st.filePerm(n.sandbox, n.file)
	if errno != 0 {
		return errno
	}
	fileAttr(a, size, mtime, p)
	return 0
}

// fileAttr fills the attributes of a regular file.
func fileAttr(a *fuse.Attr, size int64, mtime time.Time, p cursorfs.Perm) {
	a.Mode = syscall.S_IFREG
	setPerm(a, p)
	a.Nlink = 1
	a.Size = uint64(size)
	a.Blksize = readSize
	a.Blocks = (uint64(size) + 511) / 512
	setTimes(a, mtime)
}

// Open opens the file: a write is refused with EROFS, except on seek.
func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if errno := n.checkOpen(flags); errno != 0 {
		return nil, 0, errno
	}
	h, err := n.open()
	if err != nil {
		slog.Debug("open", "sandbox", n.sandbox, "file", n.file.Name, "err", err)
		return nil, 0, errnoOf(err)
	}
	h.setBase(n, callerProcess(ctx))
	n.mu.Lock()
	n.handles = append(n.handles, h)
	n.mu.Unlock()
	return h, openFlags(n.file.Kind), 0
}

func (n *fileNode) checkOpen(flags uint32) syscall.Errno {
	if flags&(syscall.O_TRUNC|syscall.O_CREAT) != 0 {
		return syscall.EROFS
	}
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY && n.file.Kind != cursorfs.KindSeek {
		return syscall.EROFS
	}
	return 0
}

// openFlags returns the FOPEN flags of a kind (see the package comment).
func openFlags(k cursorfs.Kind) uint32 {
	if k == cursorfs.KindSeek {
		return fuse.FOPEN_DIRECT_IO | fuse.FOPEN_STREAM | fuse.FOPEN_NONSEEKABLE
	}
	return fuse.FOPEN_DIRECT_IO
}

// open makes the handle of the file's kind.
func (n *fileNode) open() (handle, error) {
	if n.file.Kind == cursorfs.KindBootError {
		b, err := cursorfs.OpenBootError(n.st.home, n.sandbox)
		return newReadAtHandle(b), err
	}
	sb, err := n.st.sandbox(n.sandbox)
	if err != nil {
		return nil, err
	}
	switch n.file.Kind {
	case cursorfs.KindSnapshot:
		s, err := cursorfs.OpenSnapshot(sb, n.file.View)
		return newReadAtHandle(s), err
	case cursorfs.KindFollow:
		f, err := n.st.fsys.OpenFollow(sb, n.file.View)
		return &followHandle{f: f}, err
	case cursorfs.KindCursor:
		b, err := cursorfs.OpenCursor(sb)
		return newReadAtHandle(b), err
	}
	return &seekHandle{s: cursorfs.OpenSeek(sb)}, nil
}

// forget drops a released handle.
func (n *fileNode) forget(h handle) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, o := range n.handles {
		if o == h {
			n.handles = append(n.handles[:i], n.handles[i+1:]...)
			return
		}
	}
}

// errnoOf maps an error to an errno, logging the unexpected ones.
func errnoOf(err error) syscall.Errno {
	errno := cursorfs.Errno(err)
	if errno == syscall.EIO {
		slog.Warn("msb-logfs", "err", err)
	}
	return errno
}
