package fs

import (
	"slices"
	"sync"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirReads serves the READDIRs of a kernel that opens no directory. The
// mount answers the first OPENDIR with ENOSYS; the kernel then sends no
// OPENDIR or RELEASEDIR for the mount's life, keeps every listing as
// FOPEN_CACHE_DIR|FOPEN_KEEP_CACHE would, and reads each directory with
// file handle 0: two round trips fewer per directory a walk enters. Each
// READDIR then opens a handle in the node tree, reads at its offset and
// releases it. Two things save listing a directory again:
//
//   - a reply that left room for any entry held the listing's last one: the
//     READDIR that follows it (same directory, process and offset), which
//     the kernel sends to learn that the listing ended, is answered empty
//     without listing (a sandbox's or session's listing fits one reply);
//   - the root's listing may take dozens of replies (10,000 sandboxes): a
//     handle of the root that has not reached the end is kept for the next
//     READDIR of the same process at the offset it stopped at. Only the
//     root's: it is never forgotten, so a handle kept for a reader that
//     stopped early can never outlive its node.
//
// Each is kept for at most maxDirReads listings, the oldest let go first;
// a READDIR at offset 0 (a new listing) forgets those of its process and
// directory.
type dirReads struct {
	raw fuse.RawFileSystem

	mu    sync.Mutex
	kept  bounded[uint64]   // handles of unfinished listings of the root
	ended bounded[struct{}] // listings whose last reply held their last entry
}

// dirRead is where a listing continues: the directory's node id, the
// reading process, and the offset of its next READDIR.
type dirRead struct {
	node uint64
	pid  uint32
	next uint64
}

// maxDirReads bounds the listings kept of each kind.
const maxDirReads = 16

// maxEntrySize is more than any entry of a READDIRPLUS reply takes (its
// EntryOut, dirent and a name of at most 255 bytes).
const maxEntrySize = 512

// read serves one READDIR or READDIRPLUS (readFn) of handle 0.
func (d *dirReads) read(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList,
	readFn func(<-chan struct{}, *fuse.ReadIn, *fuse.DirEntryList) fuse.Status) fuse.Status {
	if in.Fh != 0 { // a handle the kernel opened: not with OPENDIR refused
		return readFn(cancel, in, out)
	}
	at := dirRead{node: in.NodeId, pid: in.Pid, next: in.Offset}
	if d.start(at, in.InHeader) {
		return fuse.OK // the listing ended in the last reply
	}
	root := in.NodeId == fuse.FUSE_ROOT_ID
	fh, ok := uint64(0), false
	if root {
		d.mu.Lock()
		fh, ok = d.kept.take(at)
		d.mu.Unlock()
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
	next := dirRead{node: in.NodeId, pid: in.Pid, next: out.Offset}
	var release []uint64
	d.mu.Lock()
	switch {
	case !st.Ok() || out.Offset == in.Offset: // an error, or the end
		release = append(release, fh)
	case int(in.Size)-len(out.Bytes()) >= maxEntrySize:
		d.ended.put(next, struct{}{})
		release = append(release, fh)
	case root:
		release = d.kept.put(next, fh)
	default:
		release = append(release, fh)
	}
	d.mu.Unlock()
	d.release(in.InHeader, release)
	return st
}

// start reports whether the READDIR at is the one that follows a
// listing's last reply, forgetting that listing; at offset 0 (a new
// listing) it lets go what is kept of its process's earlier listings of
// the directory instead.
func (d *dirReads) start(at dirRead, h fuse.InHeader) bool {
	d.mu.Lock()
	if at.next != 0 {
		_, ended := d.ended.take(at)
		d.mu.Unlock()
		return ended
	}
	d.ended.dropListings(at)
	release := d.kept.dropListings(at)
	d.mu.Unlock()
	d.release(h, release)
	return false
}

// release releases the handles fhs of the directory of h.
func (d *dirReads) release(h fuse.InHeader, fhs []uint64) {
	for _, fh := range fhs {
		d.raw.ReleaseDir(&fuse.ReleaseIn{InHeader: h, Fh: fh})
	}
}

// bounded keeps a value for at most maxDirReads listings, the oldest let
// go first. Its user guards it.
type bounded[V any] struct {
	m     map[dirRead]V
	order []dirRead // the keys of m, oldest first
}

// take removes and returns the value of k.
func (b *bounded[V]) take(k dirRead) (V, bool) {
	v, ok := b.m[k]
	if ok {
		delete(b.m, k)
		b.order = slices.DeleteFunc(b.order, func(o dirRead) bool { return o == k })
	}
	return v, ok
}

// put keeps v for k, and returns the values it lets go: the one k had,
// and the oldest past maxDirReads.
func (b *bounded[V]) put(k dirRead, v V) []V {
	if b.m == nil {
		b.m = make(map[dirRead]V)
	}
	var gone []V
	if old, ok := b.take(k); ok {
		gone = append(gone, old)
	}
	b.m[k] = v
	b.order = append(b.order, k)
	for len(b.order) > maxDirReads {
		gone = append(gone, b.m[b.order[0]])
		delete(b.m, b.order[0])
		b.order = slices.Delete(b.order, 0, 1)
	}
	return gone
}

// dropListings removes what is kept of the listings of at's directory by
// at's process, and returns their values.
func (b *bounded[V]) dropListings(at dirRead) []V {
	var gone []V
	b.order = slices.DeleteFunc(b.order, func(k dirRead) bool {
		if k.node != at.node || k.pid != at.pid {
			return false
		}
		gone = append(gone, b.m[k])
		delete(b.m, k)
		return true
	})
	return gone
}
