package engine

import (
	"errors"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
)

// Follow is a followed view: the view as of its open, then every entry
// appended after it, in arrival order. Bytes once shown never change.
// Safe for concurrent use.
//
// Its bytes are a kept prefix, then parts, each a segment over the files
// it was merged from. Once the handle has read past a part and a rotation
// has dropped one of the part's files, a keeper appends the part's bytes
// to the prefix, in the follow's own render cache, and lets its files go
// (keep.go): the handle holds no dropped file it has read past.
type Follow struct {
	sb     *Sandbox
	view   View
	unhold func() // the sandbox is held while the follow is open

	mu      sync.Mutex
	head    *index.Segment // the view at the open, its files released: read from its cache
	parts   []followPart   // the stream after the kept prefix (head, then keep.log)
	lastMax chain.Key      // largest key of the last part (coalescing)
	size    int64
	read    int64     // the end of the furthest read: what the handle has shown
	modTime time.Time // newest mtime of the files the stream has read
	end     State
	wit     *chain.Witness // of the files end was reached in
	err     error          // sticky: removal, missed rotation
	keep    keeper         // copies read parts out of dropped files
	closed  bool
}

// OpenFollow opens view v for following.
func (s *Sandbox) OpenFollow(v View) (*Follow, error) {
	if err := index.CheckView(v); err != nil {
		return nil, err
	}
	var f *Follow
	err := s.withIndexFor(v, true, accessFollow, func(x *index.Index, files *chain.FileSet) {
		seg := x.Segment(v)
		f = &Follow{sb: s, view: v, unhold: s.hold(), parts: []followPart{{seg: seg}}, size: seg.Size,
			modTime: files.ModTime(v.Mask), end: x.End, wit: x.Wit, lastMax: index.MaxKey}
	})
	return f, err
}

// Size returns how many bytes the stream holds so far.
func (f *Follow) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// ModTime returns the newest modification time of the files the stream
// has shown bytes of.
func (f *Follow) ModTime() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.modTime
}

// Changed returns a channel closed when the sandbox may have more to show.
func (f *Follow) Changed() <-chan struct{} { return f.sb.Changed() }

// Advance takes in what was appended since the last call and reports
// whether the stream grew. It returns ErrRemoved once the sandbox is gone
// and ErrMissedRotation if the stream fell out of the retention window.
// Parts read past whose files a rotation dropped are handed to the keeper.
func (f *Follow) Advance() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false, os.ErrClosed
	}
	if f.err != nil {
		return false, f.err
	}
	if f.sb.isRemoved() {
		f.err = ErrRemoved
		return false, f.err
	}
	files, err := chain.OpenFileSet(f.sb.table)
	if err != nil {
		if f.sb.gone() {
			f.sb.markRemoved()
			f.err = ErrRemoved
		}
		return false, err
	}
	chain, mtime := len(files.Chain), files.ModTime(f.view.Mask)
	b, err := index.RunBatch(f.view, files, f.end, f.wit)
	if err = f.sb.lostPosition(err, chain); err != nil {
		if errors.Is(err, ErrRemoved) || errors.Is(err, ErrMissedRotation) {
			f.err = err
		}
		return false, err
	}
	if b == nil {
		return false, nil
	}
	return f.take(b, files, mtime), nil
}

// take adds batch b, merged over files (which it owns), to the stream,
// appending it to the last part when its keys allow, and reports whether
// the stream grew.
func (f *Follow) take(b *index.Batch, files *chain.FileSet, mtime time.Time) bool {
	f.end, f.wit = b.End, b.Seg.Wit
	var lp *followPart // the last part, if it can still grow
	if n := len(f.parts); n > 0 && !f.parts[n-1].drop {
		lp = &f.parts[n-1]
	}
	// lastMax is MaxKey while the last part is the snapshot's: the index's.
	ordered := b.Entries > 0 && lp != nil && index.CanAppend(lp.seg, f.lastMax, b)
	if b.Seg.Size == 0 { // nothing of this view: keep only what coalescing needs
		f.markDropped(files)
		b.Seg.Release()
		switch {
		case ordered:
			f.lastMax = b.Max
		case b.Entries > 0:
			f.lastMax = index.MaxKey
		}
		return false
	}
	if ordered {
		index.AppendBatch(lp.seg, b)
	} else {
		f.parts = append(f.parts, followPart{start: f.size, seg: b.Seg})
	}
	f.markDropped(files)
	f.lastMax = b.Max
	f.size += b.Seg.Size
	if mtime.After(f.modTime) {
		f.modTime = mtime
	}
	return true
}

// ReadAt reads bytes the stream already holds; at its current end it
// returns io.EOF. A read back into a part whose files were let go is
// served from the render cache, or fails with ErrNotKept.
func (f *Follow) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for n < len(p) && off < f.size {
		c, err := f.readPart(p[n:], off)
		n += c
		off += int64(c)
		if err != nil && err != io.EOF {
			return n, err
		}
		if c == 0 {
			break
		}
	}
	f.read = max(f.read, min(off, f.size))
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readPart reads from the part that holds off: the kept prefix or a
// segment.
func (f *Follow) readPart(p []byte, off int64) (int, error) {
	if off < f.keep.log.base {
		return f.head.ReadAt(p[:min(int64(len(p)), f.keep.log.base-off)], off)
	}
	if off < f.keep.log.size {
		return f.keep.log.ReadAt(p[:min(int64(len(p)), f.keep.log.size-off)], off)
	}
	i := sort.Search(len(f.parts), func(i int) bool { return f.parts[i].start > off }) - 1
	return f.parts[i].seg.ReadAt(p, off-f.parts[i].start)
}

// Close releases the stream's files and the bytes kept for it.
func (f *Follow) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	for _, p := range f.parts {
		if p.seg != f.keep.copying { // the keeper releases that one
			p.seg.Release()
		}
	}
	if f.head != nil {
		f.head.Release()
	}
	f.parts = nil
	f.mu.Unlock()
	f.closeKeeper() // waits for a copy in progress, which releases its part
	f.unhold()
	return nil
}
