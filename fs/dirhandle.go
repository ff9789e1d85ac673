package fs

import (
	"context"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirHandle is an open directory of the node tree: the listing its first
// read takes, read in order. The kernel never holds one: it is told to
// open no directory, and each of its READDIRs opens, reads and releases
// a dirHandle (dirreads.go). It keeps the listings itself, checking at
// each listing that the directory's mtime has not moved (the mount asks
// for auto_inval_data; a directory's time moves exactly when its listing
// changes, and its attributes are valid at most dirValid, the root's not
// at all). So a second listing of an unchanged directory makes no
// READDIR, and a sandbox that appears or goes changes the root's time,
// which the kernel sees at its next listing of the root
// (docs/caching.md).
type dirHandle struct {
	d    *dirNode
	ents []fuse.DirEntry // the listing; nil until the first read
	next int             // index in ents of the next entry to read
	// cheap holds, once asked, whether the directory's files' and
	// subdirectories' stats cost little (cursorfs.Dir.StatsCheap): asked
	// once per handle, that is per READDIRPLUS.
	cheap [2]cheapness
}

// cheapness is a dirHandle's answer about its entries' stats.
type cheapness uint8

const (
	cheapUnasked cheapness = iota
	cheapYes
	cheapNo
)

var (
	_ gofs.NodeOpendirHandler = (*dirNode)(nil)
	_ gofs.FileReaddirenter   = (*dirHandle)(nil)
	_ gofs.FileSeekdirer      = (*dirHandle)(nil)
	_ gofs.FileLookuper       = (*dirHandle)(nil)
)

// OpendirHandle opens the directory; its listing is taken at the first
// read. Its open flags reach no kernel (dirreads.go): none.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	d.st.touch()
	return &dirHandle{d: d}, 0, 0
}

// Readdirent returns the next entry, nil at the end. go-fuse serialises
// the calls on one handle.
func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if h.ents == nil {
		if errno := h.list(); errno != 0 {
			return nil, errno
		}
	}
	if h.next >= len(h.ents) {
		return nil, 0
	}
	e := &h.ents[h.next]
	h.next++
	return e, 0
}

// Seekdir positions the handle after the entry whose offset is off: go-fuse
// numbers the entries from 1 in the order read. 0 is rewinddir: the next
// read lists the directory again.
func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off == 0 {
		h.ents, h.next = nil, 0
		return 0
	}
	if h.ents == nil {
		if errno := h.list(); errno != 0 {
			return errno
		}
	}
	h.next = int(min(off, uint64(len(h.ents))))
	return 0
}

// list takes the directory's listing as it is now.
func (h *dirHandle) list() syscall.Errno {
	h.d.st.touch()
	list, err := h.d.dir.List()
	if err != nil {
		return translateError(err)
	}
	ents := make([]fuse.DirEntry, len(list))
	for i, e := range list {
		mode := uint32(syscall.S_IFREG)
		if e.Dir {
			mode = syscall.S_IFDIR
		}
		ents[i] = fuse.DirEntry{Name: e.Name, Mode: mode, Ino: e.Ino, Off: uint64(i + 1)}
	}
	h.ents = ents
	return 0
}

// Lookup answers for an entry of a READDIRPLUS, which go-fuse asks about
// the entry Readdirent returned last: it gives the entry a LOOKUP would
// when the stat that costs is cheap now, else none (the kernel then makes
// no entry, as after a plain READDIR, and looks the name up when a program
// asks for it).
//   - A session's directory, listed in a sandbox's sessions/: its stat is
//     a look-up in the index the listing made. So find, du and grep -r
//     descend into it without a LOOKUP.
//   - A sandbox's sessions/, while the sandbox's index is at hand
//     (parked, or held): its stat is a look-up in it.
//   - A sandbox's files and a session's, while that index is at hand, for
//     a thread that looks up the files it lists (namesLooked.looker: du,
//     ls -l, grep -r, cp -r, tar, not find). A file's entry names its state for a
//     little less than the rest of the state's hold
//     (cursorfs.Attr.NameValid), so the stat or open of each file right
//     after the listing, and the open cp and tar make after their stat,
//     need no LOOKUP.
//   - Anything else gets none: the sessions/ and files of a sandbox not
//     indexed would cost a plain ls of the sandbox the index of its logs
//     (a quarter of a second for 200 MiB), and the root's sandboxes would
//     each be stat-ed at a plain ls of the host, the kernel keeping a node
//     for each.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if h.next == 0 || h.next > len(h.ents) {
		return nil, syscall.ENOENT
	}
	e := h.ents[h.next-1]
	dir := e.Mode == syscall.S_IFDIR
	if e.Name != name || !dir && !h.d.st.lookedUp.looker(callerThread(ctx), time.Now()) || !h.statsCheap(dir) {
		return nil, syscall.ENOENT
	}
	return h.d.entry(ctx, name, false, out)
}

// statsCheap reports whether the stats of the directory's subdirectories
// (dirs) or files cost little now, asking the directory once per handle.
func (h *dirHandle) statsCheap(dirs bool) bool {
	i := 0
	if dirs {
		i = 1
	}
	if h.cheap[i] == cheapUnasked {
		h.cheap[i] = cheapNo
		if h.d.dir.StatsCheap(dirs) {
			h.cheap[i] = cheapYes
		}
	}
	return h.cheap[i] == cheapYes
}
