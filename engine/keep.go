package engine

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/microsandbox/msb-logfs/engine/internal/cache"
	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// ErrNotKept is returned by a follow's read back into bytes it showed
// before a rotation dropped their log file, when the render cache no
// longer keeps them (its budget evicted them, or there is no cache). The
// bytes are never served otherwise: the read fails (EIO through the mount).
var ErrNotKept = errors.New("bytes shown before a rotation dropped their log file are no longer kept by the render cache")

// followPart is one stretch of a follow's bytes: a segment that reads its
// files, or, once the keeper took it, the segment's bytes in the render
// cache.
type followPart struct {
	start int64
	seg   *index.Segment // nil once kept
	kept  *keptBytes
	drop  bool // read past, and one of its files was dropped: the keeper takes it
	busy  bool // the keeper is copying it
}

func (p *followPart) readAt(b []byte, off int64) (int, error) {
	if p.seg != nil {
		return p.seg.ReadAt(b, off)
	}
	return p.kept.ReadAt(b, off)
}

func (p *followPart) release() {
	if p.seg != nil {
		p.seg.Release()
	}
}

// keeper is a follow's copier of parts out of dropped files: at most one
// goroutine at a time, started by Advance when it marks a part, ended when
// no part is marked or the follow closes (Close waits for it).
type keeper struct {
	cache   *cache.Cache // the follow's own namespace of the render cache, one reference
	made    bool         // cache was asked for (it stays nil without a render cache)
	next    uint64       // pieces given keys so far
	running bool
	done    chan struct{} // closed when the running goroutine ends
	stop    atomic.Bool   // set by Close: the copy in progress stops
	scan    int           // parts before it are kept or marked
}

// markDropped marks every part the handle has read past that holds a
// file cur does not (a rotation dropped it), and starts the keeper.
func (f *Follow) markDropped(cur *chain.FileSet) {
	marked := false
	for i := f.keep.scan; i < len(f.parts); i++ {
		p := &f.parts[i]
		if p.seg != nil && !p.drop && p.start+p.seg.Size <= f.read && p.seg.HoldsOutside(cur) {
			p.drop, marked = true, true
		}
	}
	for f.keep.scan < len(f.parts) && (f.parts[f.keep.scan].seg == nil || f.parts[f.keep.scan].drop) {
		f.keep.scan++
	}
	if marked && !f.keep.running {
		f.keep.running = true
		f.keep.done = make(chan struct{})
		go f.keepMarked(f.keep.done)
	}
}

// keepMarked copies each marked part into the render cache, outside the
// follow's lock (reads go on from the part's segment meanwhile), then puts
// the copy in its place and releases the segment and its files.
func (f *Follow) keepMarked(done chan struct{}) {
	defer close(done)
	for {
		f.mu.Lock()
		i := f.nextMarked()
		if f.closed || i < 0 {
			f.keep.running = false
			f.mu.Unlock()
			return
		}
		p := &f.parts[i]
		p.busy = true
		seg, start := p.seg, p.start
		c, first := f.keepCache(), f.keep.next
		f.keep.next += uint64((seg.Size + keepPiece - 1) / keepPiece)
		f.mu.Unlock()

		kb := keepBytes(seg, c, first, &f.keep.stop)

		f.mu.Lock()
		closed := f.closed
		if !closed {
			f.parts[i] = followPart{start: start, kept: kb}
		}
		f.mu.Unlock()
		seg.Release()
		if closed {
			return // Close released every other part and waits for done
		}
	}
}

// nextMarked returns the first part marked and not yet kept, or -1.
func (f *Follow) nextMarked() int {
	for i := range f.parts {
		if f.parts[i].drop && f.parts[i].seg != nil && !f.parts[i].busy {
			return i
		}
	}
	return -1
}

// keepCache returns the follow's own render cache, made at the first part
// kept; nil without a render cache.
func (f *Follow) keepCache() *cache.Cache {
	if !f.keep.made {
		f.keep.made = true
		f.keep.cache = f.sb.home.cacheStore().NewCache()
	}
	return f.keep.cache
}

// closeKeeper stops a copy in progress, waits for it and drops the kept
// bytes.
func (f *Follow) closeKeeper() {
	f.keep.stop.Store(true)
	f.mu.Lock()
	done := f.keep.done
	f.mu.Unlock()
	if done != nil {
		<-done
	}
	f.keep.cache.Release()
}

// settle waits until the keeper has taken every marked part (tests).
func (f *Follow) settle() {
	f.mu.Lock()
	done := f.keep.done
	f.mu.Unlock()
	if done != nil {
		<-done
	}
}

// keepPiece is the size of the pieces a kept part is stored in.
const keepPiece = 1 << 20

// keptBytes are a part's bytes in pieces of keepPiece in a render cache.
// A piece the cache did not keep (its budget) fails to read with
// ErrNotKept; pieces from lost on failed to copy with lostErr.
type keptBytes struct {
	cache   *cache.Cache
	first   uint64 // the key of the first piece
	size    int64
	lost    int64
	lostErr error
}

// keepBytes copies seg's bytes into c, piece by piece, until stop is set.
func keepBytes(seg *index.Segment, c *cache.Cache, first uint64, stop *atomic.Bool) *keptBytes {
	kb := &keptBytes{cache: c, first: first, size: seg.Size, lost: seg.Size}
	if c == nil {
		return kb
	}
	buf := logline.GetBuf(keepPiece)[:keepPiece]
	defer logline.PutBuf(buf)
	for off := int64(0); off < kb.size; off += keepPiece {
		if stop.Load() {
			return kb
		}
		want := min(keepPiece, kb.size-off)
		n, err := seg.ReadAt(buf[:want], off)
		if int64(n) != want {
			kb.lost, kb.lostErr = off, err
			return kb
		}
		c.Store(kb.key(off), buf[:n])
	}
	return kb
}

func (k *keptBytes) key(off int64) cache.Key {
	i := k.first + uint64(off/keepPiece)
	return cache.Key{From: i, To: i + 1}
}

// ReadAt reads the kept bytes at off.
func (k *keptBytes) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < k.size {
		if off >= k.lost && k.lostErr != nil {
			return n, fmt.Errorf("%w (the copy failed: %w)", ErrNotKept, k.lostErr)
		}
		c, ok := 0, false
		if k.cache != nil {
			c, ok = k.cache.Read(k.key(off), p[n:], off%keepPiece)
		}
		if !ok || c == 0 {
			return n, ErrNotKept
		}
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
