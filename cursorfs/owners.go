package cursorfs

import (
	"errors"
	"io/fs"
	"os"
)

// Owners and modes. Without AllowOther only the mounting user can reach
// the mount, and everything is theirs: 0555 directories, 0444 files, 0644
// seek. With AllowOther the kernel checks permissions (default_permissions)
// against owners and modes derived from the disk (perm.go), so that a user
// reads a view only if they could read its files on disk (held for
// engine.HoldFor, as every state the mount shows).

// The modes shown without AllowOther.
const (
	dirMode      = 0o555
	fileMode     = 0o444
	writableMode = 0o644
)

// owners is the owner policy of an FS.
type owners struct {
	allowOther bool
	uid, gid   uint32 // the mounting user's
	perms      *permCache
}

// SetAllowOther makes files and directories show the owners and modes of
// the disk (on) or belong to the mounting user (off, the default). Call
// it before serving.
func (f *FS) SetAllowOther(on bool) { f.owners.allowOther = on }

// mounter is the Perm of everything without AllowOther.
func (o *owners) mounter(mode uint32) Perm {
	return Perm{UID: o.uid, GID: o.gid, Mode: mode}
}

func newOwners(f *FS) owners {
	return owners{uid: uint32(os.Getuid()), gid: uint32(os.Getgid()), perms: newPerms(f.home)}
}

// rootPerm returns the owner and mode of the mount's root. A home without
// a sandboxes directory shows an empty root: the mounting user's.
func (f *FS) rootPerm() (Perm, error) {
	if !f.owners.allowOther {
		return f.owners.mounter(dirMode), nil
	}
	p, err := f.owners.perms.Root()
	if errors.Is(err, fs.ErrNotExist) {
		return f.owners.mounter(dirMode), nil
	}
	return p, err
}

// sandboxPerm returns the owner and mode of sandbox's directory.
func (f *FS) sandboxPerm(sandbox string) (Perm, error) {
	if !f.owners.allowOther {
		return f.owners.mounter(dirMode), nil
	}
	return f.owners.perms.Sandbox(sandbox)
}

// filePerm returns the owner and mode of file i of Files in sandbox.
func (f *FS) filePerm(sandbox string, i int) (Perm, error) {
	if !f.owners.allowOther {
		if kinds[Files[i].Kind].writable() {
			return f.owners.mounter(writableMode), nil
		}
		return f.owners.mounter(fileMode), nil
	}
	return f.owners.perms.File(sandbox, i)
}

// sessionsPerm returns the owner and mode of sandbox's sessions directory
// and of its session directories. They are made of the exec chain's
// content, as the session files are: a class of users that may read
// stdout may list and enter them, and no other.
func (f *FS) sessionsPerm(sandbox string) (Perm, error) {
	if !f.owners.allowOther {
		return f.owners.mounter(dirMode), nil
	}
	p, err := f.filePerm(sandbox, stdoutIndex)
	if err != nil {
		return Perm{}, err
	}
	p.Mode = p.Mode&0o444 | (p.Mode&0o444)>>2
	return p, nil
}
