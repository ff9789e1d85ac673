package index

import (
	"github.com/microsandbox/msb-logfs/engine/internal/cache"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// warmer renders one view of a stream while its index is built, and stores
// the bytes between every two consecutive checkpoints as a render-cache
// chunk: the pass that parses the files for the index also fills the
// cache, so the first read after a cold stat is a warm read. A chunk
// larger than chunkMax is not rendered (reads render it in pieces), and a
// chunk the store does not keep (the budget) only costs a render later.
//
// Ownership: buf is the one buffer, at most chunkMax (plus one entry of at
// most chunkMax) long, dropped by done.
type warmer struct {
	slot  int // the view's slot, or -1: render nothing
	view  render.View
	cache *cache.Cache // the index's; not referenced by the warmer
	r     render.Renderer
	buf   []byte
	whole bool   // buf holds every entry since the chunk's first checkpoint
	from  uint64 // serial of the chunk's first checkpoint
}

// start readies w to render slot of views from the checkpoint with serial
// from; slot < 0 or a nil cache renders nothing.
func (w *warmer) start(views []render.View, slot int, cache *cache.Cache, from uint64) {
	*w = warmer{slot: -1}
	if slot < 0 || slot >= len(views) || cache == nil {
		return
	}
	w.slot, w.view, w.cache, w.from, w.whole = slot, views[slot], cache, from, true
}

// add renders e, whose rendered size is size, into the chunk in progress.
func (w *warmer) add(e *logline.Entry, size int64, c *logline.Cursor) {
	if w.slot < 0 || !w.whole || !w.view.Includes(e) {
		return
	}
	if size > chunkMax-int64(len(w.buf)) {
		w.whole, w.buf = false, w.buf[:0]
		return
	}
	w.buf = w.r.AppendEntry(w.buf, w.view.Format, e, c)
}

// checkpoint stores the chunk that ends at checkpoint to, whose length the
// index says is want, and starts the next.
func (w *warmer) checkpoint(to uint64, want int64) {
	if w.slot < 0 {
		return
	}
	if w.whole && int64(len(w.buf)) == want {
		w.cache.Store(cache.Key{From: w.from, To: to, Slot: w.slot}, w.buf)
	}
	w.from, w.buf, w.whole = to, w.buf[:0], true
}

// done drops the buffer.
func (w *warmer) done() { *w = warmer{slot: -1} }
