package fs

import (
	"sync"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirReads serves the READDIRs of a kernel that opens no directory. The
// mount answers the first OPENDIR with ENOSYS; the kernel then sends no
// OPENDIR or RELEASEDIR for the mount's life, keeps every listing as
// FOPEN_CACHE_DIR|FOPEN_KEEP_CACHE would, and reads each directory with
// file handle 0: two round trips fewer per directory a walk enters. Each
// READDIR then opens a handle in the node tree, reads at its offset and
// releases it, so a listing made of several READDIRs lists the directory
// again for each (a sandbox's or a session's fits one, plus the empty
// one that ends it). The root's may take many (10,000 sandboxes): a
// handle of the root that has not reached the end is kept for the next
// READDIR of the same process at the offset it stopped at, at most
// maxRootReads of them (the oldest released first). Only the root's: it
// is never forgotten, so a handle kept for a reader that stopped early can
// never outlive its node.
type dirReads struct {
	raw fuse.RawFileSystem

	mu    sync.Mutex
	kept  map[rootRead]uint64 // handle by where its listing continues
	order []rootRead          // the keys of kept, oldest first
}

// rootRead is where a listing of the root continues: the reading process
// and the offset of its next READDIR.
type rootRead struct {
	pid  uint32
	next uint64
}

// maxRootReads bounds the handles of unfinished listings of the root.
const maxRootReads = 16

// read serves one READDIR or READDIRPLUS (readFn) of handle 0.
func (d *dirReads) read(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList,
	readFn func(<-chan struct{}, *fuse.ReadIn, *fuse.DirEntryList) fuse.Status) fuse.Status {
	if in.Fh != 0 { // a handle the kernel opened: not with OPENDIR refused
		return readFn(cancel, in, out)
	}
	root := in.NodeId == fuse.FUSE_ROOT_ID
	fh, ok := uint64(0), false
	if root {
		fh, ok = d.take(rootRead{pid: in.Pid, next: in.Offset})
	}
	if !ok {
		var opened fuse.OpenOut
		if st := d.raw.OpenDir(cancel, &fuse.OpenIn{InHeader: in.InHeader}, &opened); !st.Ok() {
			return st
		}
		fh = opened.Fh
	}
	with := *in
	with.Fh = fh
	st := readFn(cancel, &with, out)
	if root && st.Ok() && out.Offset != in.Offset { // not at the end yet
		d.keep(rootRead{pid: in.Pid, next: out.Offset}, fh, in.InHeader)
		return st
	}
	d.raw.ReleaseDir(&fuse.ReleaseIn{InHeader: in.InHeader, Fh: fh})
	return st
}

// take removes and returns the kept handle of k.
func (d *dirReads) take(k rootRead) (uint64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fh, ok := d.kept[k]
	if ok {
		delete(d.kept, k)
		d.order = deleteKey(d.order, k)
	}
	return fh, ok
}

// keep keeps fh for the READDIR of k, releasing the handle it replaces
// and, past maxRootReads, the oldest.
func (d *dirReads) keep(k rootRead, fh uint64, h fuse.InHeader) {
	var release []uint64
	d.mu.Lock()
	if d.kept == nil {
		d.kept = make(map[rootRead]uint64)
	}
	if old, ok := d.kept[k]; ok {
		release = append(release, old)
		d.order = deleteKey(d.order, k)
	}
	d.kept[k] = fh
	d.order = append(d.order, k)
	for len(d.order) > maxRootReads {
		release = append(release, d.kept[d.order[0]])
		delete(d.kept, d.order[0])
		d.order = d.order[1:]
	}
	d.mu.Unlock()
	for _, fh := range release {
		d.raw.ReleaseDir(&fuse.ReleaseIn{InHeader: h, Fh: fh})
	}
}

// deleteKey removes k from keys.
func deleteKey(keys []rootRead, k rootRead) []rootRead {
	for i, o := range keys {
		if o == k {
			return append(keys[:i], keys[i+1:]...)
		}
	}
	return keys
}
