package fs

import (
	"context"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
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
		ents = append(ents, fuse.DirEntry{Name: e.Name, Mode: syscall.S_IFREG, Ino: d.fileIno(e.Index)})
	}
	return ents, 0
}

func (d *sandboxDir) fileIno(i int) uint64 { return d.ino + 1 + uint64(i) }

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
	dirAttr(&out.Attr, d.st.dirListing(d.name).observe(key), 0, p)
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

// Lookup finds any file of the sandbox, listed or not.
func (d *sandboxDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	node, err := d.st.fsys.Lookup(d.name, name)
	if err != nil {
		return nil, syscall.ENOENT
	}
	n := &fileNode{st: d.st, node: node}
	if errno := n.statByName(&out.Attr); errno != 0 {
		return nil, errno
	}
	return d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: d.fileIno(node.Index())}), 0
}
