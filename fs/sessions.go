package fs

import (
	"context"
	"errors"
	iofs "io/fs"
	"strconv"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
	"github.com/microsandbox/msb-logfs/engine"
)

// sessionsDir is <mountpoint>/<sandbox>/sessions/: one directory per
// session id, listed in the order of the ids, read from the sandbox's
// index at every readdir and getattr.
type sessionsDir struct {
	gofs.Inode
	readOnlyDir
	st      *state
	sandbox string
	ino     uint64
}

var (
	_ gofs.NodeGetattrer = (*sessionsDir)(nil)
	_ gofs.NodeLookuper  = (*sessionsDir)(nil)
	_ gofs.NodeReaddirer = (*sessionsDir)(nil)
)

// Getattr describes the directory; its time moves when the list of
// sessions changes.
func (d *sessionsDir) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	list, err := d.st.fsys.Sessions(d.sandbox)
	if err != nil {
		return errnoOf(err)
	}
	key := make([]byte, 0, 8*len(list))
	for _, si := range list {
		key = strconv.AppendUint(append(key, ','), si.ID, 10)
	}
	p, err := d.st.fsys.SandboxPerm(d.sandbox)
	if err != nil {
		return permErrno(err)
	}
	dirAttr(&out.Attr, d.st.sessionsListing(d.sandbox).observe(string(key)), len(list), p)
	keepCtime(&out.Attr, d.st.start)
	out.SetTimeout(dirTimeout)
	return 0
}

// Readdir lists the sessions in the order of their ids (ls -U, ls -v).
func (d *sessionsDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	list, err := d.st.fsys.Sessions(d.sandbox)
	if err != nil {
		return nil, errnoOf(err)
	}
	ents := make([]fuse.DirEntry, 0, len(list))
	for _, si := range list {
		ents = append(ents, fuse.DirEntry{
			Name: strconv.FormatUint(si.ID, 10),
			Mode: syscall.S_IFDIR,
			Ino:  sessionIno(d.sandbox, si.ID),
		})
	}
	return gofs.NewListDirStream(ents), 0
}

// Lookup finds the directory of a session by its id in canonical decimal;
// any other name, and an id the sandbox has no entry of, is ENOENT.
func (d *sessionsDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	id, ok := cursorfs.ParseSessionName(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	s := &sessionDir{st: d.st, sandbox: d.sandbox, id: id, ino: sessionIno(d.sandbox, id)}
	return lookupDir(ctx, &d.Inode, s, s.ino, out)
}

// sessionDir is <mountpoint>/<sandbox>/sessions/<id>/.
type sessionDir struct {
	gofs.Inode
	readOnlyDir
	st      *state
	sandbox string
	id      uint64
	ino     uint64
}

var (
	_ gofs.NodeGetattrer = (*sessionDir)(nil)
	_ gofs.NodeLookuper  = (*sessionDir)(nil)
	_ gofs.NodeReaddirer = (*sessionDir)(nil)
)

// Getattr describes the directory: its time is its last entry's.
func (d *sessionDir) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	si, err := d.st.fsys.SessionSummary(d.sandbox, d.id)
	if err != nil {
		return sessionErrno(err)
	}
	p, err := d.st.fsys.SandboxPerm(d.sandbox)
	if err != nil {
		return permErrno(err)
	}
	dirAttr(&out.Attr, cursorfs.GoTime(si.Last), 0, p)
	keepCtime(&out.Attr, d.st.start)
	out.SetTimeout(dirTimeout)
	return 0
}

// Readdir lists the session's snapshot files and info, and with ListAll
// its follow and live files.
func (d *sessionDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	if _, err := d.st.fsys.SessionSummary(d.sandbox, d.id); err != nil {
		return nil, sessionErrno(err)
	}
	list := cursorfs.ListSession(d.st.opts.ListAll)
	ents := make([]fuse.DirEntry, 0, len(list))
	for _, e := range list {
		ents = append(ents, fuse.DirEntry{Name: e.Name, Mode: syscall.S_IFREG, Ino: d.ino + 1 + uint64(e.Index)})
	}
	return gofs.NewListDirStream(ents), 0
}

// Lookup finds any file of the session, listed or not.
func (d *sessionDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	node, err := d.st.fsys.LookupSession(d.sandbox, d.id, name)
	if err != nil {
		return nil, syscall.ENOENT
	}
	return lookupFile(ctx, &d.Inode, d.st, node, d.ino+1+uint64(node.Index()), out)
}

// keepCtime sets a's ctime to t. The directories of sessions change
// while a sandbox runs (a session starts, a session writes), and GNU tar
// reports a directory whose ctime moved while it read it as "changed as we
// read it" (and exits 1): their mtime says when their listing or their
// session last changed, their ctime stays put: the mount's start (not a
// session's first entry, which moves when its oldest entries rotate out).
func keepCtime(a *fuse.Attr, t time.Time) {
	a.Ctime, a.Ctimensec = uint64(t.Unix()), uint32(t.Nanosecond())
}

// sessionErrno maps an error of finding a session: a missing sandbox or
// session is ENOENT.
func sessionErrno(err error) syscall.Errno {
	if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, engine.ErrNoSession) {
		return syscall.ENOENT
	}
	return errnoOf(err)
}
