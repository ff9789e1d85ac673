package fs

import (
	"context"
	"log/slog"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// stateNode is one state of a snapshot file, the cursor or an info: a
// pinned cursorfs.Node. Its attributes never change, so stat and fstat
// from any process are answered from them (and the kernel may keep them),
// and its opens let the kernel keep their pages; an open of a state no
// longer shown fails with ESTALE, and the kernel looks the name up again.
// It holds nothing else: the kernel may know hundreds of thousands of
// them.
type stateNode struct {
	gofs.Inode
	readOnlyNode
	st    *scope
	node  *cursorfs.Node
	tally tally
}

var (
	_ gofs.NodeGetattrer   = (*stateNode)(nil)
	_ gofs.NodeOpener      = (*stateNode)(nil)
	_ gofs.NodeSetattrer   = (*stateNode)(nil)
	_ gofs.NodeOnForgetter = (*stateNode)(nil)
)

// OnForget counts the node out when the kernel forgets it.
func (n *stateNode) OnForget() { n.tally.forgotten(n.st.state, true) }

// Getattr answers stat and fstat with the state's attributes.
func (n *stateNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.st.touch()
	a, err := n.node.Stat()
	if err != nil {
		return translateError(err)
	}
	fileAttr(&out.Attr, n.node.Ino(), a)
	out.SetTimeout(a.Valid)
	return 0
}

// Open opens the state.
func (n *stateNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	n.st.touch()
	ch, err := n.node.Open(int(flags))
	if err != nil {
		slog.Debug("open", "sandbox", n.node.Sandbox(), "file", n.node.Name(), "err", err)
		return nil, 0, translateError(err)
	}
	return &handle{h: ch, st: n.st.state}, fuseFlags(ch.Flags()), 0
}
