package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// dirNode is a directory of the mount: a cursorfs.Dir, which owns what it
// lists, what its names resolve to and what stat shows of it.
type dirNode struct {
	gofs.Inode
	readOnlyDir
	st  *state
	dir *cursorfs.Dir
}

var (
	_ gofs.NodeGetattrer = (*dirNode)(nil)
	_ gofs.NodeLookuper  = (*dirNode)(nil)
	_ gofs.NodeReaddirer = (*dirNode)(nil)
)

// Getattr describes the directory.
func (d *dirNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	a, err := d.dir.Stat()
	if err != nil {
		return translateError(err)
	}
	dirAttr(&out.Attr, d.dir.Ino(), a)
	out.SetTimeout(a.Valid)
	return 0
}

// Readdir lists the directory as it is now.
func (d *dirNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	list, err := d.dir.List()
	if err != nil {
		return nil, translateError(err)
	}
	ents := make([]fuse.DirEntry, len(list))
	for i, e := range list {
		mode := uint32(syscall.S_IFREG)
		if e.Dir {
			mode = syscall.S_IFDIR
		}
		ents[i] = fuse.DirEntry{Name: e.Name, Mode: mode, Ino: e.Ino}
	}
	return gofs.NewListDirStream(ents), 0
}

// Lookup resolves name and stats what it names: a name that resolves but
// is not there now is ENOENT.
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
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
		child := &dirNode{st: d.st, dir: c}
		return d.NewInode(ctx, child, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: c.Ino()}), 0
	case *cursorfs.Node:
		a, err := c.Stat()
		if err != nil {
			return nil, translateError(err)
		}
		if a.Fixed {
			return d.lookupState(ctx, name, c.Pin(a), out), 0
		}
		fileAttr(&out.Attr, c.Ino(), a)
		return d.NewInode(ctx, &fileNode{st: d.st, node: c}, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: c.Ino()}), 0
	}
	return nil, syscall.ENOENT
}

// lookupState returns the inode of the state pinned: the one the kernel
// knows under name if it is that state, else a new one.
func (d *dirNode) lookupState(ctx context.Context, name string, pinned *cursorfs.Node, out *fuse.EntryOut) *gofs.Inode {
	a, _ := pinned.Stat() // a pinned node's own, with their validity
	ino := pinned.Ino()
	fileAttr(&out.Attr, ino, a)
	out.SetAttrTimeout(a.Valid)
	if known := d.GetChild(name); known != nil && known.StableAttr().Ino == ino {
		return known
	}
	d.st.states.Add(1) // two lookups racing for one new state count it twice
	return d.NewInode(ctx, &stateNode{st: d.st, node: pinned}, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: ino})
}
