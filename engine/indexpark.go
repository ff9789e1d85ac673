package engine

import "unsafe"

// parkedIndex is an index that let go of its files, its render cache and
// its read buffers: the checkpoints, sizes and sessions of its stream at
// the files it last described, kept so that a sandbox whose files have not
// changed is neither opened nor parsed again to answer a stat, and resumes
// without a pass at its next open. Never changed once made: stats of
// several sandboxes' summaries may share it.
type parkedIndex struct {
	stream  SourceMask
	cps     []checkpoint
	end     State
	total   [maxTracked]int64
	counts  Counts
	tail    []idStat
	serial  uint64
	savedAt int
}

// park returns what x keeps once parked; x must describe files.
func (x *index) park() *parkedIndex {
	return &parkedIndex{stream: x.stream, cps: append([]checkpoint(nil), x.cps...), end: x.end, total: x.total,
		counts: x.counts, tail: x.tail, serial: x.serial, savedAt: x.savedAt}
}

// bytes returns the heap p holds: itself, its checkpoints and their
// sessions (shared with the snapshots of the index it was, if any).
func (p *parkedIndex) bytes() int64 {
	n := int64(unsafe.Sizeof(*p)) + int64(len(p.cps))*int64(unsafe.Sizeof(checkpoint{}))
	n += int64(len(p.tail)) * int64(unsafe.Sizeof(idStat{}))
	for i := range p.cps {
		n += int64(len(p.cps[i].ids)) * int64(unsafe.Sizeof(idStat{}))
	}
	return n
}

// summary returns an index that answers what a stat asks of p (sizes,
// counts, sessions, end state) and holds no file: it is never updated,
// read through or released.
func (p *parkedIndex) summary() *index {
	return &index{stream: p.stream, views: trackedViews(p.stream), cps: p.cps, end: p.end, total: p.total,
		counts: p.counts, tail: p.tail, serial: p.serial}
}

// unpark returns the index p was, describing files (which it then holds)
// with a new render cache from caches: files must be the files p
// described, as their stamp says.
func (p *parkedIndex) unpark(files *fileSet, caches *cacheStore, saves *indexStore) *index {
	x := newIndex(p.stream, caches, saves)
	x.cps = p.cps[:len(p.cps):len(p.cps)] // an append copies: p is shared
	x.end, x.total, x.counts, x.tail = p.end, p.total, p.counts, p.tail
	x.serial, x.savedAt = p.serial, p.savedAt
	x.cache = caches.newCache()
	x.files, x.wit = files, takeWitness(files)
	return x
}
