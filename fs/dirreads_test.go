package fs

import (
	"slices"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// rootReader reads the root through a recorder with handle 0, as a kernel
// that opens no directory does, in READDIRPLUS replies of 1 KiB.
type rootReader struct {
	t   *testing.T
	r   *recorder
	pid uint32
	off uint64
}

// next reads the next part of the listing; nil at its end.
func (rr *rootReader) next() []string {
	rr.t.Helper()
	in := &fuse.ReadIn{InHeader: fuse.InHeader{NodeId: fuse.FUSE_ROOT_ID, Caller: fuse.Caller{Pid: rr.pid}}, Offset: rr.off, Size: 1024}
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
	for pid := uint32(1000); pid < 1000+3*maxRootReads; pid++ {
		(&rootReader{t: t, r: r, pid: pid}).next()
	}
	if n := len(r.dirs.kept); n > maxRootReads || n != len(r.dirs.order) {
		t.Errorf("%d handles kept (%d in order), want at most %d", n, len(r.dirs.order), maxRootReads)
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
