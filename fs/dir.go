package fs

import (
	"context"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// dirNode is a directory of the mount: a cursorfs.Dir, which owns what it
// lists, what its names resolve to and what stat shows of it.
type dirNode struct {
	gofs.Inode
	readOnlyDir
	st    *scope
	dir   *cursorfs.Dir
	tally tally
}

var (
	_ gofs.NodeGetattrer   = (*dirNode)(nil)
	_ gofs.NodeLookuper    = (*dirNode)(nil)
	_ gofs.NodeOnForgetter = (*dirNode)(nil)
)

// OnForget counts the node out when the kernel forgets it, and a
// sandbox's directory out of the set of known sandboxes.
func (d *dirNode) OnForget() {
	d.tally.forgotten(d.st.state, false)
	if d.st.dir == d {
		d.st.boxes.remove(d.st)
	}
}

// Getattr describes the directory.
func (d *dirNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.st.touch()
	a, err := d.dir.Stat()
	if err != nil {
		return translateError(err)
	}
	dirAttr(&out.Attr, d.dir.Ino(), a)
	out.SetTimeout(a.Valid)
	return 0
}

// Lookup resolves name and stats what it names: a name that resolves but
// is not there now is ENOENT. The thread that looks up a file is noted
// (namesLooked).
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return d.entry(ctx, name, true, out)
}

// entry is Lookup but for noting the caller: also the entry a listing
// gives (dirHandle.Lookup), for which byName is false.
func (d *dirNode) entry(ctx context.Context, name string, byName bool, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	d.st.touch()
	child, errno := d.lookup(ctx, name, byName, out)
	if child != nil {
		d.st.countIn(child)
	}
	return child, errno
}

// lookup is entry but for counting the node it answers with in.
func (d *dirNode) lookup(ctx context.Context, name string, byName bool, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	c, err := d.dir.Lookup(name)
	if err != nil {
		return nil, translateError(err)
	}
	switch c := c.(type) {
	case *cursorfs.Dir:
		a, err := c.Stat()
		if err != nil {
			return nil, translateError(err)
		}
		dirAttr(&out.Attr, c.Ino(), a)
		out.SetEntryTimeout(a.Valid)
		out.SetAttrTimeout(a.Valid)
		return d.lookupDir(ctx, name, c), 0
	case *cursorfs.Node:
		a, err := d.statFile(ctx, name, c, byName)
		if err != nil {
			return nil, translateError(err)
		}
		if a.Fixed {
			return d.lookupState(ctx, name, c.Pin(a), out), 0
		}
		fileAttr(&out.Attr, c.Ino(), a)
		if known := d.known(name, c.Ino()); known != nil {
			return known, 0
		}
		return d.newChild(ctx, &fileNode{st: d.st, node: c}, syscall.S_IFREG, c.Ino()), 0
	}
	return nil, syscall.ENOENT
}

// statFile stats file c, named name in d. A lookup by name from a thread
// whose lookup of the same name as a stat was less than namesLookedFor
// ago (the open that follows a stat) gets the state an open would show;
// any other gets the state a stat would, and is noted (namesLooked).
func (d *dirNode) statFile(ctx context.Context, name string, c *cursorfs.Node, byName bool) (cursorfs.Attr, error) {
	if !byName {
		return c.Stat()
	}
	tid, now := callerThread(ctx), time.Now()
	if d.st.lookedUp.recent(tid, d, name, now) {
		return c.StatToOpen()
	}
	a, err := c.Stat()
	if err == nil && a.Fixed {
		d.st.lookedUp.saw(tid, d, name, now)
	}
	return a, err
}

// lookupDir returns the inode of the directory c: the one the kernel knows
// under name, else a new one. A sandbox's directory gets a scope of its
// own and joins the set of known sandboxes.
func (d *dirNode) lookupDir(ctx context.Context, name string, c *cursorfs.Dir) *gofs.Inode {
	if known := d.known(name, c.Ino()); known != nil {
		if dn, ok := known.Operations().(*dirNode); ok && dn.st.dir == dn {
			dn.st.touch()
			d.st.join(dn.st) // again: a FORGET may have raced this lookup
		}
		return known
	}
	if !d.IsRoot() {
		return d.newChild(ctx, &dirNode{st: d.st, dir: c}, syscall.S_IFDIR, c.Ino())
	}
	child := &dirNode{st: newScope(d.st.state, name), dir: c}
	child.st.dir = child
	d.st.join(child.st)
	return d.newChild(ctx, child, syscall.S_IFDIR, c.Ino())
}

// known returns the child the kernel knows under name if its inode number
// is ino, else nil. go-fuse would answer with that node anyway: reusing
// it makes no node that is never known.
func (d *dirNode) known(name string, ino uint64) *gofs.Inode {
	if known := d.GetChild(name); known != nil && known.StableAttr().Ino == ino {
		return known
	}
	return nil
}

// newChild makes the inode of a new node (or returns the node go-fuse
// knows by that number).
func (d *dirNode) newChild(ctx context.Context, n gofs.InodeEmbedder, mode uint32, ino uint64) *gofs.Inode {
	return d.NewInode(ctx, n, gofs.StableAttr{Mode: mode, Ino: ino})
}

// countIn counts the node a lookup answers with in the mount's counts of
// known nodes and states (tally).
func (st *state) countIn(child *gofs.Inode) {
	switch n := child.Operations().(type) {
	case *dirNode:
		n.tally.lookedUp(st, false)
	case *fileNode:
		n.tally.lookedUp(st, false)
	case *stateNode:
		n.tally.lookedUp(st, true)
	}
}

// lookupState returns the inode of the state pinned: the one the kernel
// knows under name if it is that state, else a new one.
func (d *dirNode) lookupState(ctx context.Context, name string, pinned *cursorfs.Node, out *fuse.EntryOut) *gofs.Inode {
	a, _ := pinned.Stat() // a pinned node's own, with their validity
	ino := pinned.Ino()
	fileAttr(&out.Attr, ino, a)
	out.SetAttrTimeout(a.Valid)
	out.SetEntryTimeout(a.NameValid)
	if known := d.known(name, ino); known != nil {
		return known
	}
	return d.newChild(ctx, &stateNode{st: d.st, node: pinned}, syscall.S_IFREG, ino)
}
