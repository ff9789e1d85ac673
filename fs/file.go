package fs

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// fileNode is a file of a sandbox or session directory whose bytes may
// change at any time (follow, live, seek, boot-error.json):
// a cursorfs.Node, which owns the file's behaviour, one inode for the
// name. It keeps its open handles so that an fstat, which reaches FUSE as
// a plain GETATTR without the file handle, can be answered with the
// caller's handle.
type fileNode struct {
	gofs.Inode
	readOnlyNode
	st   *scope
	node *cursorfs.Node

	mu      sync.Mutex
	handles []*handle // open, oldest first
	tally   tally
}

var (
	_ gofs.NodeGetattrer   = (*fileNode)(nil)
	_ gofs.NodeOpener      = (*fileNode)(nil)
	_ gofs.NodeSetattrer   = (*fileNode)(nil)
	_ gofs.NodeOnForgetter = (*fileNode)(nil)
)

// OnForget counts the node out when the kernel forgets it.
func (n *fileNode) OnForget() { n.tally.forgotten(n.st.state, false) }

// Getattr answers stat by name with the state an open now would show, and
// fstat with the caller's handle (its own size and times).
func (n *fileNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.st.touch()
	h := n.handleFor(ctx, f)
	if h == nil {
		return n.statByName(&out.Attr)
	}
	p, err := n.node.Perm()
	if err != nil {
		return translateError(err)
	}
	size, mtime := h.h.Stat()
	fileAttr(&out.Attr, n.node.Ino(), cursorfs.Attr{Size: size, ModTime: mtime, Perm: p})
	return 0
}

// handleFor returns the handle a GETATTR is about: the one it names, else
// the newest handle of this file that the calling process opened, else nil
// (a stat by name).
func (n *fileNode) handleFor(ctx context.Context, f gofs.FileHandle) *handle {
	if h, ok := f.(*handle); ok && n.st.rec.namedHandle(ctx) {
		return h
	}
	n.mu.Lock()
	none := len(n.handles) == 0
	n.mu.Unlock()
	if none {
		return nil
	}
	tid, proc := callerThread(ctx), 0
	callerProc := func() int { // read once, and only if a thread differs
		if proc == 0 {
			proc = tgid(tid)
		}
		return proc
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := len(n.handles) - 1; i >= 0; i-- {
		if n.handles[i].opener.sameCaller(tid, callerProc) {
			return n.handles[i]
		}
	}
	return nil
}

// statByName fills the attributes an open now would show.
func (n *fileNode) statByName(a *fuse.Attr) syscall.Errno {
	attr, err := n.node.Stat()
	if err != nil {
		return translateError(err)
	}
	fileAttr(a, n.node.Ino(), attr)
	return 0
}

// Open opens the file; cursorfs refuses writes (EROFS) except on seek.
func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	n.st.touch()
	ch, err := n.node.Open(int(flags))
	if err != nil {
		slog.Debug("open", "sandbox", n.node.Sandbox(), "file", n.node.Name(), "err", err)
		return nil, 0, translateError(err)
	}
	h := &handle{h: ch, st: n.st.state, node: n, opener: opener{tid: callerThread(ctx)}}
	n.mu.Lock()
	n.handles = append(n.handles, h)
	n.mu.Unlock()
	return h, fuseFlags(ch.Flags()), 0
}

// fuseFlags maps cursorfs open flags onto FOPEN flags.
func fuseFlags(f cursorfs.OpenFlags) uint32 {
	var out uint32
	for _, m := range []struct {
		in  cursorfs.OpenFlags
		out uint32
	}{
		{cursorfs.DirectIO, fuse.FOPEN_DIRECT_IO},
		{cursorfs.Stream, fuse.FOPEN_STREAM},
		{cursorfs.NonSeekable, fuse.FOPEN_NONSEEKABLE},
		{cursorfs.KeepCache, fuse.FOPEN_KEEP_CACHE},
	} {
		if f&m.in != 0 {
			out |= m.out
		}
	}
	return out
}

// forget drops a released handle, keeping no reference to it: a node
// lives as long as the kernel knows its file.
func (n *fileNode) forget(h *handle) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, o := range n.handles {
		if o == h {
			n.handles = slices.Delete(n.handles, i, i+1) // clears the slot it frees: the array must not keep h
			return
		}
	}
}
