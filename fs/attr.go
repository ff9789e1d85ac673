package fs

import (
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// fileAttr fills the attributes of a regular file.
func fileAttr(a *fuse.Attr, ino uint64, attr cursorfs.Attr) {
	a.Ino = ino
	a.Mode = syscall.S_IFREG
	setPerm(a, attr.Perm)
	a.Nlink = 1
	a.Size = uint64(attr.Size)
	a.Blksize = readSize
	a.Blocks = (uint64(attr.Size) + 511) / 512
	a.SetTimes(&attr.ModTime, &attr.ModTime, &attr.ModTime)
}

// dirAttr fills the attributes of a read-only directory.
func dirAttr(a *fuse.Attr, ino uint64, attr cursorfs.DirAttr) {
	a.Ino = ino
	a.Mode = syscall.S_IFDIR
	setPerm(a, attr.Perm)
	a.Nlink = uint32(2 + attr.Subdirs)
	a.SetTimes(&attr.ModTime, &attr.ModTime, &attr.ChangeTime)
}

// setPerm sets the owner and permission bits of a: every node sets its
// own (the mount has no defaults).
func setPerm(a *fuse.Attr, p cursorfs.Perm) {
	a.Mode = a.Mode&^0o7777 | p.Mode&0o777
	a.Owner = fuse.Owner{Uid: p.UID, Gid: p.GID}
}
