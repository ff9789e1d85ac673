package fs

import (
	"context"
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
	bootError, err := d.st.home.StatSandbox(d.name) // by stat: no log file is opened
	if err != nil {
		return nil, syscall.ENOENT
	}
	var ents []fuse.DirEntry
	for i, f := range cursorfs.Files {
		if !f.Listed && !d.st.opts.ListAll {
			continue
		}
		if f.Kind == cursorfs.KindBootError && !bootError {
			continue
		}
		ents = append(ents, fuse.DirEntry{Name: f.Name, Mode: syscall.S_IFREG, Ino: d.fileIno(i)})
	}
	return ents, 0
}

var bootErrorIndex = cursorfs.LookupFile("boot-error.json")

func (d *sandboxDir) fileIno(i int) uint64 { return d.ino + 1 + uint64(i) }

// Getattr describes the directory; its time moves when boot-error.json
// appears or goes, the only change of its listing.
func (d *sandboxDir) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	ents, errno := d.entries()
	if errno != 0 {
		return errno
	}
	key := "-"
	for _, e := range ents {
		if e.Name == cursorfs.Files[bootErrorIndex].Name {
			key = "boot-error"
		}
	}
	p, errno := d.st.sandboxPerm(d.name)
	if errno != 0 {
		return errno
	}
	dirAttr(&out.Attr, d.st.dirListing(d.name).observe(key), 0, p)
	return 0
}

// Readdir lists the snapshot files, cursor, boot-error.json when present,
// and with ListAll the follow files and seek.
func (d *sandboxDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	ents, errno := d.entries()
	if errno != 0 {
		return nil, errno
	}
	return gofs.NewListDirStream(ents), 0
}

// Lookup finds any file of the sandbox, listed or not.
func (d *sandboxDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	i := cursorfs.LookupFile(name)
	if i < 0 {
		return nil, syscall.ENOENT
	}
	n := &fileNode{st: d.st, sandbox: d.name, file: cursorfs.Files[i]}
	var a fuse.AttrOut
	if errno := n.statByName(&a.Attr); errno != 0 {
		return nil, errno
	}
	out.Attr = a.Attr
	return d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: d.fileIno(i)}), 0
}
