package fs

import (
	"errors"
	"io/fs"
	"log/slog"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// Owners and modes. Without AllowOther only the mounting user can reach
// the mount, and everything is theirs: 0555 directories, 0444 files, 0644
// seek. With AllowOther the kernel checks permissions (default_permissions)
// against owners and modes that package cursorfs derives from the disk, so
// that a user reads a view only if they could read its files on disk
// (held for engine.HoldFor, as every state the mount shows).

// The modes shown without AllowOther.
const (
	dirMode  = 0o555
	fileMode = 0o444
	seekMode = 0o644
)

// mounter is the Perm of everything without AllowOther.
func (s *state) mounter(mode uint32) cursorfs.Perm {
	return cursorfs.Perm{UID: s.uid, GID: s.gid, Mode: mode}
}

// rootPerm returns the owner and mode of the root directory. A home
// without a sandboxes directory shows an empty root: the mounting user's.
func (s *state) rootPerm() (cursorfs.Perm, syscall.Errno) {
	if !s.opts.AllowOther {
		return s.mounter(dirMode), 0
	}
	p, err := s.perms.Root()
	if errors.Is(err, fs.ErrNotExist) {
		return s.mounter(dirMode), 0
	}
	return p, permErrno(err)
}

// sandboxPerm returns the owner and mode of sandbox name's directory.
func (s *state) sandboxPerm(name string) (cursorfs.Perm, syscall.Errno) {
	if !s.opts.AllowOther {
		return s.mounter(dirMode), 0
	}
	p, err := s.perms.Sandbox(name)
	return p, permErrno(err)
}

// filePerm returns the owner and mode of file f of sandbox name.
func (s *state) filePerm(name string, f cursorfs.File) (cursorfs.Perm, syscall.Errno) {
	if !s.opts.AllowOther {
		if f.Kind == cursorfs.KindSeek {
			return s.mounter(seekMode), 0
		}
		return s.mounter(fileMode), 0
	}
	p, err := s.perms.File(name, cursorfs.LookupFile(f.Name))
	return p, permErrno(err)
}

// permErrno maps an error of a permission computation: the errno of the
// failed lstat (ENOENT when the sandbox went, EACCES where the mounting
// user cannot look), else EIO, logged.
func permErrno(err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &errno):
		return errno
	}
	slog.Warn("msb-logfs", "err", err)
	return syscall.EIO
}

// setPerm sets the owner and permission bits of a.
func setPerm(a *fuse.Attr, p cursorfs.Perm) {
	a.Mode = a.Mode&^0o7777 | p.Mode&0o777
	a.Owner = fuse.Owner{Uid: p.UID, Gid: p.GID}
}
