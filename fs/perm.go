package fs

import (
	"errors"
	"log/slog"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// Owners and modes come from cursorfs (see its owners.go): the mounting
// user's without AllowOther, the disk's with it.

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
