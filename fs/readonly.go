package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// readOnlyNode answers EROFS to every change of a node's attributes.
type readOnlyNode struct{}

// Setattr refuses chmod, chown, truncate and utimes.
func (readOnlyNode) Setattr(context.Context, gofs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

// Setxattr refuses extended attributes.
func (readOnlyNode) Setxattr(context.Context, string, []byte, uint32) syscall.Errno {
	return syscall.EROFS
}

// Removexattr refuses extended attributes.
func (readOnlyNode) Removexattr(context.Context, string) syscall.Errno {
	return syscall.EROFS
}

// readOnlyDir answers EROFS to every change of a directory.
type readOnlyDir struct{ readOnlyNode }

var (
	_ gofs.NodeCreater   = readOnlyDir{}
	_ gofs.NodeTmpfiler  = readOnlyDir{}
	_ gofs.NodeMkdirer   = readOnlyDir{}
	_ gofs.NodeMknoder   = readOnlyDir{}
	_ gofs.NodeLinker    = readOnlyDir{}
	_ gofs.NodeSymlinker = readOnlyDir{}
	_ gofs.NodeUnlinker  = readOnlyDir{}
	_ gofs.NodeRmdirer   = readOnlyDir{}
	_ gofs.NodeRenamer   = readOnlyDir{}
	_ gofs.NodeSetattrer = readOnlyDir{}
)

// Create refuses new files.
func (readOnlyDir) Create(context.Context, string, uint32, uint32, *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

// Tmpfile refuses O_TMPFILE.
func (readOnlyDir) Tmpfile(context.Context, uint32, uint32, *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

// Mkdir refuses new directories.
func (readOnlyDir) Mkdir(context.Context, string, uint32, *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

// Mknod refuses device files and FIFOs.
func (readOnlyDir) Mknod(context.Context, string, uint32, uint32, *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

// Link refuses hard links.
func (readOnlyDir) Link(context.Context, gofs.InodeEmbedder, string, *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

// Symlink refuses symbolic links.
func (readOnlyDir) Symlink(context.Context, string, string, *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

// Unlink refuses deletion.
func (readOnlyDir) Unlink(context.Context, string) syscall.Errno { return syscall.EROFS }

// Rmdir refuses deletion.
func (readOnlyDir) Rmdir(context.Context, string) syscall.Errno { return syscall.EROFS }

// Rename refuses renames.
func (readOnlyDir) Rename(context.Context, string, gofs.InodeEmbedder, string, uint32) syscall.Errno {
	return syscall.EROFS
}
