package fs

import (
	"context"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// sandboxDir is <mountpoint>/<sandbox>/. It holds no engine object: the
// sandbox is looked up by name at every request, so a sandbox removed and
// created again under the same name is shown afresh.
type sandboxDir struct {
	gofs.Inode
	readOnlyDir
	st   *state
	name string
	ino  uint64
}

var (
	_ gofs.NodeGetattrer = (*sandboxDir)(nil)
	_ gofs.NodeLookuper  = (*sandboxDir)(nil)
	_ gofs.NodeReaddirer = (*sandboxDir)(nil)
)

// entries returns the files the directory lists now, and an errno when the
// sandbox is gone.
func (d *sandboxDir) entries() ([]fuse.DirEntry, syscall.Errno) {
	list, err := d.st.fsys.List(d.name, d.st.opts.ListAll) // by stat: no log file is opened
	if err != nil {
		return nil, syscall.ENOENT
	}
	ents := make([]fuse.DirEntry, 0, len(list))
	for _, e := range list {
		if e.Dir {
			ents = append(ents, fuse.DirEntry{Name: e.Name, Mode: syscall.S_IFDIR, Ino: d.sessionsIno()})
			continue
		}
		ents = append(ents, fuse.DirEntry{Name: e.Name, Mode: syscall.S_IFREG, Ino: d.fileIno(e.Index)})
	}
	return ents, 0
}

func (d *sandboxDir) fileIno(i int) uint64 { return d.ino + 1 + uint64(i) }

// sessionsIno is the inode number of the sessions directory: the last of
// the sandbox's stride.
func (d *sandboxDir) sessionsIno() uint64 { return d.ino + inoStride - 1 }

// Getattr describes the directory; its time moves when its listing
// changes (boot-error.json appears or goes).
func (d *sandboxDir) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	ents, errno := d.entries()
	if errno != 0 {
		return errno
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name
	}
	key := strings.Join(names, "\x00")
	p, err := d.st.fsys.SandboxPerm(d.name)
	if err != nil {
		return permErrno(err)
	}
	dirAttr(&out.Attr, d.st.dirListing(d.name).observe(key), 1, p)
	out.SetTimeout(dirTimeout)
	return 0
}

// Readdir lists the snapshot files, cursor, boot-error.json when present,
// and with ListAll the follow and live files and seek.
func (d *sandboxDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	ents, errno := d.entries()
	if errno != 0 {
		return nil, errno
	}
	return gofs.NewListDirStream(ents), 0
}

// Lookup finds any file of the sandbox, listed or not, and its sessions
// directory.
func (d *sandboxDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if name == cursorfs.SessionsDir {
		s := &sessionsDir{st: d.st, sandbox: d.name, ino: d.sessionsIno()}
		return lookupDir(ctx, &d.Inode, s, s.ino, out)
	}
	node, err := d.st.fsys.Lookup(d.name, name)
	if err != nil {
		return nil, syscall.ENOENT
	}
	return lookupFile(ctx, &d.Inode, d.st, node, d.fileIno(node.Index()), out)
}

// lookupFile makes the inode of a file of a directory.
func lookupFile(ctx context.Context, parent *gofs.Inode, st *state, node *cursorfs.Node, ino uint64, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	n := &fileNode{st: st, node: node}
	if errno := n.statByName(&out.Attr); errno != 0 {
		return nil, errno
	}
	return parent.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: ino}), 0
}

// lookupDir makes the inode of a directory d, found when its Getattr
// succeeds; the kernel keeps it for dirTimeout.
func lookupDir(ctx context.Context, parent *gofs.Inode, d gofs.InodeEmbedder, ino uint64, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	var a fuse.AttrOut
	if errno := d.(gofs.NodeGetattrer).Getattr(ctx, nil, &a); errno != 0 {
		return nil, errno
	}
	out.Attr = a.Attr
	out.SetEntryTimeout(dirTimeout)
	out.SetAttrTimeout(dirTimeout)
	return parent.NewInode(ctx, d, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino}), 0
}
