package engine

import (
	"fmt"
	"slices"
	"sort"
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
var ErrNotKept = index.ErrNotKept

// followPart is one stretch of a follow's bytes after its kept prefix: a
// segment that reads its files.
type followPart struct {
	start int64
	seg   *index.Segment
	drop  bool // read past, at or before a part holding a dropped file: the keeper takes it
}

// keeper moves a follow's parts, oldest first, out of their files into the
// kept prefix: at most one goroutine at a time, started by Advance when it
// marks a part, ended when the first part is not marked or the follow
// closes (Close waits for it).
type keeper struct {
	log     keptLog
	made    bool // log.cache was asked for (it stays nil without a render cache)
	running bool
	copying *index.Segment   // the first part's, while the keeper copies it
	done    chan struct{}    // closed when the running goroutine ends
	stop    atomic.Bool      // set by Close: the copy in progress stops
	ids     []chain.OpenFile // the files at the last look (markDropped)
	looked  int64            // the handle's read then
	holdAll bool             // keep nothing, hold every file: the reference of BenchmarkFollowRotations
}

// maxReadParts bounds the parts read past that a follow keeps as segments
// while none of their files is dropped: past it, they are all kept (copied)
// too, so that the part list, about 2.6 KB a part, stays bounded when
// batches that cannot be appended to one another (a runtime line written
// late) come faster than rotations.
const maxReadParts = 64

// markDropped marks the parts the handle has read past up to the last one
// that holds a file cur does not (a rotation dropped it), or all of them
// once there are more than maxReadParts, and starts the keeper. The parts
// before the last are marked too, so that what is kept is always a prefix
// of the stream. While cur holds the files of the last look, only the
// parts read past since then are looked at.
func (f *Follow) markDropped(cur *chain.FileSet) {
	if f.keep.holdAll {
		return
	}
	ends := func(off int64) int { // the first part that ends after off
		return sort.Search(len(f.parts), func(i int) bool { return f.parts[i].start+f.parts[i].seg.Size > off })
	}
	ids := cur.Opened()
	from := 0
	if slices.Equal(ids, f.keep.ids) {
		from = ends(f.keep.looked)
	}
	f.keep.ids, f.keep.looked = ids, f.read
	readPast := ends(f.read)
	last := -1
	if readPast > maxReadParts {
		last = readPast - 1
	}
	for i := readPast - 1; i > last && i >= from; i-- {
		if f.parts[i].drop || f.parts[i].seg.HoldsOutside(cur) {
			last = i
		}
	}
	for i := 0; i <= last; i++ {
		f.parts[i].drop = true
	}
	if last >= 0 && !f.keep.running {
		f.keep.running = true
		f.keep.done = make(chan struct{})
		go f.keepMarked(f.keep.done)
	}
}

// keepMarked appends the first part to the kept prefix while it is
// marked: it copies the part's bytes into the render cache outside the
// follow's lock (reads go on from the part's segment meanwhile), then
// takes the part out and releases its segment and files.
func (f *Follow) keepMarked(done chan struct{}) {
	defer close(done)
	for {
		f.mu.Lock()
		if f.closed || len(f.parts) == 0 || !f.parts[0].drop {
			f.keep.running = false
			f.mu.Unlock()
			return
		}
		seg := f.parts[0].seg
		f.keep.copying = seg
		f.keepCache()
		log := f.keep.log
		head := f.head == nil && log.size == 0 && seg.CachedPrefix() > 0
		from := int64(0)
		if head { // the view at the open: its chunks are in the index's cache already
			from = seg.CachedPrefix()
			log.base, log.size = from, from
		}
		f.mu.Unlock()

		grown, stale := log.appendSegment(seg, from, &f.keep.stop)

		f.mu.Lock()
		closed := f.closed
		if !closed {
			f.keep.log = grown
			f.parts = f.parts[1:]
		}
		if head && !closed {
			f.head = seg
			seg.ReleaseFiles()
		}
		f.keep.copying = nil
		f.mu.Unlock()
		if closed {
			seg.Release()
			return // Close released every other part and waits for done
		}
		if !head {
			seg.Release()
		}
		grown.cache.Drop(stale) // after the swap: no read looks for it now
	}
}

// keepCache makes the follow's own render cache at the first part kept;
// it stays nil without a render cache.
func (f *Follow) keepCache() {
	if !f.keep.made {
		f.keep.made = true
		f.keep.log.cache = f.sb.home.cacheStore().NewCache()
	}
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
	f.keep.log.cache.Release()
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

// keepPiece is the size of the pieces the kept prefix is stored in.
const keepPiece = 256 << 10

// keptLog is the prefix of a follow's bytes whose files were let go, from
// base (the end of the head, the view at the open, if that is read from
// the index's cache) to size, in pieces of keepPiece in the follow's own
// render cache: piece j holds the bytes from base+j*keepPiece, keyed by j
// and its length, so that the last piece, stored again longer as the
// prefix grows, is a new key. A piece the cache did not keep (its budget,
// a failed copy) fails to read with ErrNotKept. A value: the keeper grows
// a copy and swaps it in.
type keptLog struct {
	cache      *cache.Cache
	base, size int64
}

func (k keptLog) key(j, n int64) cache.Key {
	return cache.Key{From: uint64(j), To: uint64(n)}
}

// pieceLen returns the length of piece j.
func (k keptLog) pieceLen(j int64) int64 { return min(keepPiece, k.size-k.base-j*keepPiece) }

// appendSegment copies seg's bytes from off from after k's and returns the
// longer prefix, and the key of the last piece it replaced (to drop once
// the new prefix is in place). A stop leaves the rest of the bytes unkept.
func (k keptLog) appendSegment(seg *index.Segment, from int64, stop *atomic.Bool) (grown keptLog, stale cache.Key) {
	grown = keptLog{cache: k.cache, base: k.base, size: k.size + seg.Size - from}
	stale = k.key(-1, 0) // a key no piece has
	if k.cache == nil {
		return grown, stale
	}
	buf := logline.GetBuf(keepPiece)[:keepPiece]
	defer logline.PutBuf(buf)
	at := k.size - k.base // where the next byte goes in the pieces
	for off := from; off < seg.Size && !stop.Load(); {
		j, held := at/keepPiece, at%keepPiece
		ok := held == 0 || k.readPiece(buf[:held], j)
		want := min(keepPiece-held, seg.Size-off)
		n, _ := seg.ReadAt(buf[held:held+want], off)
		if ok && int64(n) == want { // else the piece is lost: reads of it fail
			k.cache.Store(k.key(j, held+want), buf[:held+want])
		}
		if held > 0 {
			stale = k.key(j, held)
		}
		off += want
		at += want
	}
	return grown, stale
}

// readPiece reads the first len(p) bytes of piece j, as k stores it.
func (k keptLog) readPiece(p []byte, j int64) bool {
	n, ok := k.cache.Read(k.key(j, k.pieceLen(j)), p, 0)
	return ok && n == len(p)
}

// ReadAt reads the kept bytes at off.
func (k keptLog) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < k.size {
		j := (off - k.base) / keepPiece
		c, ok := 0, false
		if k.cache != nil {
			c, ok = k.cache.Read(k.key(j, k.pieceLen(j)), p[n:], off-k.base-j*keepPiece)
		}
		if !ok || c == 0 {
			return n, fmt.Errorf("follow bytes at %d: %w", off, ErrNotKept)
		}
		n += c
		off += int64(c)
	}
	return n, nil
}
