package fs

import (
	"cmp"
	"slices"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// rootReader reads a directory (the root unless node is set) through a
// recorder with handle 0, as a kernel that opens no directory does, in
// READDIRPLUS replies of 1 KiB (size, if set).
type rootReader struct {
	t    *testing.T
	r    *recorder
	pid  uint32
	off  uint64
	node uint64
	size uint32
}

// next reads the next part of the listing; nil at its end.
func (rr *rootReader) next() []string {
	rr.t.Helper()
	node, size := cmp.Or(rr.node, fuse.FUSE_ROOT_ID), cmp.Or(rr.size, 1024)
	in := &fuse.ReadIn{InHeader: fuse.InHeader{NodeId: node, Caller: fuse.Caller{Pid: rr.pid}}, Offset: rr.off, Size: size}
	out := fuse.NewDirEntryList(make([]byte, in.Size), rr.off)
	if st := rr.r.ReadDirPlus(nil, in, out); !st.Ok() {
		rr.t.Fatalf("READDIRPLUS of the root at %d: %v", rr.off, st)
	}
	ents, _, err := fuse.ParseDirLookupEntries(out.Bytes())
	if err != nil {
		rr.t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	rr.off = out.Offset
	return names
}

// all reads the rest of the listing.
func (rr *rootReader) all() []string {
	var names []string
	for part := rr.next(); part != nil; part = rr.next() {
		names = append(names, part...)
	}
	return names
}

// TestDirReadsRoot: with handle 0, a listing of the root made of many
// READDIRs gives every sandbox once, in order, while other processes read
// it at the same time and others stop early; the handles of listings that
// stop early are bounded.
func TestDirReadsRoot(t *testing.T) {
	names, raw, _ := rawTree(t, 300, 1)
	r := newRecorder(raw)
	a := &rootReader{t: t, r: r, pid: 1}
	b := &rootReader{t: t, r: r, pid: 2}
	var gotA, gotB []string
	for {
		pa, pb := a.next(), b.next()
		gotA, gotB = append(gotA, pa...), append(gotB, pb...)
		for pid := uint32(100); pid < 104; pid++ { // listings that stop after one part
			(&rootReader{t: t, r: r, pid: pid}).next()
		}
		if pa == nil && pb == nil {
			break
		}
	}
	if !slices.Equal(gotA, names) || !slices.Equal(gotB, names) {
		t.Fatalf("two interleaved listings: %d and %d names, want the %d sandboxes in order", len(gotA), len(gotB), len(names))
	}
	for pid := uint32(1000); pid < 1000+3*maxDirReads; pid++ {
		(&rootReader{t: t, r: r, pid: pid}).next()
	}
	if n := len(r.dirs.kept.m); n > maxDirReads || n != len(r.dirs.kept.order) {
		t.Errorf("%d handles kept (%d in order), want at most %d", n, len(r.dirs.kept.order), maxDirReads)
	}
	if got := (&rootReader{t: t, r: r, pid: 1}).all(); !slices.Equal(got, names) {
		t.Errorf("a listing after them: %d names, want %d", len(got), len(names))
	}
	stopped := &rootReader{t: t, r: r, pid: 7}
	first := stopped.next()
	stopped.off = 0 // rewinddir: the listing starts again
	if got := stopped.all(); !slices.Equal(got, names) || len(first) == 0 {
		t.Errorf("a listing read again from 0: %d names, want %d", len(got), len(names))
	}
}

// openCounter counts the directories opened in the node tree.
type openCounter struct {
	fuse.RawFileSystem
	opens int
}

func (c *openCounter) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	c.opens++
	return c.RawFileSystem.OpenDir(cancel, in, out)
}

// TestDirReadsEnd: a listing that fits one reply is listed once: the
// READDIR after it, which learns that it ended, opens nothing; a listing
// cut by a full reply goes on where it stopped, and one read again from 0
// lists again.
func TestDirReadsEnd(t *testing.T) {
	names, raw, _ := rawTree(t, 2, 1)
	var out fuse.EntryOut
	if st := raw.Lookup(nil, &fuse.InHeader{NodeId: fuse.FUSE_ROOT_ID}, names[0], &out); st != fuse.OK {
		t.Fatalf("lookup %s: %v", names[0], st)
	}
	c := &openCounter{RawFileSystem: raw}
	r := newRecorder(raw)
	r.dirs.raw = c
	want := []string{"merged", "stdout", "stderr", "output", "system", "merged.jsonl", "cursor", "sessions"}
	box := &rootReader{t: t, r: r, pid: 9, node: out.NodeId, size: 8192}
	if got := box.all(); !slices.Equal(got, want) || c.opens != 1 {
		t.Errorf("a sandbox's listing: %v in %d opens, want %v in 1", got, c.opens, want)
	}
	small := &rootReader{t: t, r: r, pid: 9, node: out.NodeId, size: 600} // one entry a reply
	if got := small.all(); !slices.Equal(got, want) {
		t.Errorf("a sandbox's listing in small replies: %v, want %v", got, want)
	}
	c.opens = 0
	box.off = 0
	if got := box.all(); !slices.Equal(got, want) || c.opens != 1 {
		t.Errorf("the listing again: %v in %d opens, want %v in 1", got, c.opens, want)
	}
}
