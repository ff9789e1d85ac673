package fs

import (
	"context"
	"log/slog"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// root is the mount's top directory: one directory per sandbox, read live
// from the home at every readdir and lookup.
type root struct {
	gofs.Inode
	readOnlyDir
	st *state
}

var (
	_ gofs.NodeGetattrer = (*root)(nil)
	_ gofs.NodeLookuper  = (*root)(nil)
	_ gofs.NodeReaddirer = (*root)(nil)
)

// names lists the sandboxes now and returns the root's time.
func (r *root) names() ([]string, time.Time, syscall.Errno) {
	names, err := r.st.fsys.Sandboxes()
	if err != nil {
		slog.Warn("list sandboxes", "err", err)
		return nil, time.Time{}, syscall.EIO
	}
	return names, r.st.list.observe(strings.Join(names, "\x00")), 0
}

// Getattr describes the root directory.
func (r *root) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	names, mtime, errno := r.names()
	if errno != 0 {
		return errno
	}
	p, err := r.st.fsys.RootPerm()
	if err != nil {
		return permErrno(err)
	}
	dirAttr(&out.Attr, mtime, len(names), p)
	return 0
}

// Readdir lists the sandboxes that exist now.
func (r *root) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	names, _, errno := r.names()
	if errno != 0 {
		return nil, errno
	}
	ents := make([]fuse.DirEntry, 0, len(names))
	for _, n := range names {
		ents = append(ents, fuse.DirEntry{Name: n, Mode: syscall.S_IFDIR, Ino: r.st.sandboxIno(n)})
	}
	return gofs.NewListDirStream(ents), 0
}

// Lookup finds a sandbox directory by stat alone (see Getattr): it opens
// no log file.
func (r *root) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	d := &sandboxDir{st: r.st, name: name, ino: r.st.sandboxIno(name)}
	return lookupDir(ctx, &r.Inode, d, d.ino, out)
}

// dirTimeout is how long the kernel may keep a sandbox directory's entry
// and attributes: `ls -l` of the root then costs one LOOKUP per sandbox
// instead of a LOOKUP and a GETATTR (10,000 sandboxes: 3.1 s → see
// docs/filesystem.md, Resources). A removed sandbox still disappears
// within 1 s (SPEC §3), a new one appears at once (no negative caching),
// and a directory's times, which change only with its listing, show at
// most this late. Files keep timeout 0: their sizes must be exact.
const dirTimeout = 500 * time.Millisecond

// dirAttr fills the attributes of a read-only directory.
func dirAttr(a *fuse.Attr, mtime time.Time, subdirs int, p cursorfs.Perm) {
	a.Mode = syscall.S_IFDIR
	setPerm(a, p)
	a.Nlink = uint32(2 + subdirs)
	setTimes(a, mtime)
}

// setTimes sets mtime and ctime to t, and atime too.
func setTimes(a *fuse.Attr, t time.Time) {
	a.SetTimes(&t, &t, &t)
}
