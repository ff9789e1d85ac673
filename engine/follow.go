package engine

import (
	"errors"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
)

// Follow is a followed view: the view as of its open, then every entry
// appended after it, in arrival order. Bytes once shown never change.
// Safe for concurrent use.
type Follow struct {
	sb     *Sandbox
	view   View
	unhold func() // the sandbox is held while the follow is open

	mu      sync.Mutex
	segs    []*index.Segment
	starts  []int64   // offset of each segment in the stream
	lastMax chain.Key // largest key of the last segment (coalescing)
	size    int64
	modTime time.Time // newest mtime of the files the stream has read
	end     State
	wit     *chain.Witness // of the files end was reached in
	err     error          // sticky: removal, missed rotation
}

// OpenFollow opens view v for following.
func (s *Sandbox) OpenFollow(v View) (*Follow, error) {
	if err := index.CheckView(v); err != nil {
		return nil, err
	}
	var f *Follow
	err := s.withIndexToOpen(v, true, func(x *index.Index, files *chain.FileSet) {
		seg := x.Segment(v)
		f = &Follow{sb: s, view: v, unhold: s.hold(), segs: []*index.Segment{seg}, starts: []int64{0}, size: seg.Size,
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
func (f *Follow) Advance() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
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
	f.end, f.wit = b.End, b.Seg.Wit
	last := f.segs[len(f.segs)-1]
	ordered := b.Entries > 0 && len(f.segs) > 1 && index.CanAppend(last, f.lastMax, b)
	if b.Seg.Size == 0 { // nothing of this view: keep only what coalescing needs
		b.Seg.Release()
		switch {
		case ordered:
			f.lastMax = b.Max
		case b.Entries > 0:
			f.lastMax = index.MaxKey
		}
		return false, nil
	}
	if ordered {
		index.AppendBatch(last, b)
	} else {
		f.segs = append(f.segs, b.Seg)
		f.starts = append(f.starts, f.size)
	}
	f.lastMax = b.Max
	f.size += b.Seg.Size
	if mtime.After(f.modTime) {
		f.modTime = mtime
	}
	return true, nil
}

// ReadAt reads bytes the stream already holds; at its current end it
// returns io.EOF.
func (f *Follow) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for n < len(p) && off < f.size {
		i := sort.Search(len(f.starts), func(i int) bool { return f.starts[i] > off }) - 1
		c, err := f.segs[i].ReadAt(p[n:], off-f.starts[i])
		n += c
		off += int64(c)
		if err != nil && err != io.EOF {
			return n, err
		}
		if c == 0 {
			break
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close releases the stream's files.
func (f *Follow) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.segs {
		s.Release()
	}
	f.segs, f.starts = nil, nil
	f.unhold()
	return nil
}
