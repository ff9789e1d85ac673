package index

import (
	"sync"
	"unsafe"

	"github.com/microsandbox/msb-logfs/engine/internal/cache"
	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// Parked is an index that let go of its files, its render cache and
// its read buffers: the checkpoints, sizes and sessions of its stream at
// the files it last described, kept so that a sandbox whose files have not
// changed is neither opened nor parsed again to answer a stat, and resumes
// without a pass at its next open. Never changed once made: stats of
// several sandboxes' summaries may share it.
type Parked struct {
	stream  logline.SourceMask
	cps     []Checkpoint
	end     chain.State
	total   [MaxTracked]int64
	counts  chain.Counts
	tail    []IDStat
	serial  uint64
	savedAt int

	sessOnce sync.Once
	sessions []SessionSum // by id, built at the first call of sessionList
}

// Park returns what x keeps once parked; x must describe files.
func (x *Index) Park() *Parked {
	return &Parked{stream: x.stream, cps: append([]Checkpoint(nil), x.Cps...), end: x.End, total: x.Total,
		counts: x.Counts, tail: x.Tail, serial: x.serial, savedAt: x.savedAt}
}

// Files returns the files x describes (nil once released); the caller
// must not release them.
func (x *Index) Files() *chain.FileSet { return x.files }

// Stream returns the stream p indexes.
func (p *Parked) Stream() logline.SourceMask { return p.stream }

// Bytes returns the heap p holds: itself, its checkpoints and their
// sessions (shared with the snapshots of the index it was, if any), and
// the most its list of sessions can take once built (one per session of
// an interval, at most).
func (p *Parked) Bytes() int64 {
	n := int64(unsafe.Sizeof(*p)) + int64(len(p.cps))*int64(unsafe.Sizeof(Checkpoint{}))
	stats := len(p.tail)
	for i := range p.cps {
		stats += len(p.cps[i].IDs)
	}
	return n + int64(stats)*int64(unsafe.Sizeof(IDStat{})+unsafe.Sizeof(SessionSum{}))
}

// WithSummary calls fn with an index that answers what a stat asks of p
// (sizes, counts, sessions, end state) and holds no file: fn must not
// update it, read through it, release it or keep it past its return (the
// index is reused). The summaries of p share one list of sessions, built
// at the first that asks for it. It allocates nothing: a walk asks a
// parked sandbox's summary at every stat of its files.
func (p *Parked) WithSummary(fn func(x *Index)) {
	x := summaries.Get().(*Index)
	*x = Index{stream: p.stream, Views: trackedViews(p.stream), Cps: p.cps, End: p.end, Total: p.total,
		Counts: p.counts, Tail: p.tail, serial: p.serial, parked: p}
	defer func() {
		*x = Index{} // keeps nothing of p
		summaries.Put(x)
	}()
	fn(x)
}

// summaries holds the indexes WithSummary lends.
var summaries = sync.Pool{New: func() any { return new(Index) }}

// sessionList returns the sessions of p by id, built at its first call;
// the caller must not change it.
func (p *Parked) sessionList() []SessionSum {
	p.sessOnce.Do(func() {
		x := Index{Cps: p.cps, Tail: p.tail}
		p.sessions = x.Sessions()
	})
	return p.sessions
}

// Unpark returns the index p was, describing files (which it then holds)
// with a new render cache from caches: files must be the files p
// described, as their stamp says.
func (p *Parked) Unpark(files *chain.FileSet, caches *cache.Store, saves *Store) *Index {
	x := New(p.stream, caches, saves)
	x.Cps = p.cps[:len(p.cps):len(p.cps)] // an append copies: p is shared
	x.End, x.Total, x.Counts, x.Tail = p.end, p.total, p.counts, p.tail
	x.serial, x.savedAt = p.serial, p.savedAt
	x.Cache = caches.NewCache()
	x.files, x.Wit = files, chain.TakeWitness(files)
	return x
}
