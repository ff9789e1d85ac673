package index

import (
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// RecordInput is the most input (the bytes of every file a stream reads,
// below the bounds of its FileSet) whose pass keeps a Record: less than
// one checkpoint interval, so that the index has only its first
// checkpoint. Such an index is rebuilt by a whole pass from its start at
// every update (there is no later checkpoint to resume from), and the
// render cache keeps nothing of its views (a chunk lies between two
// checkpoints): every read of every view parses the whole chain again from
// that first checkpoint, which the record replaces. A larger chain reads
// from checkpoints and the render cache, and is never recorded.
const RecordInput = CheckpointEvery - 1

// RecordMax bounds the memory of one Record: the capacity of its array
// of entries (with their positions) and of its bodies. A pass whose record
// would grow past it (many short lines, bodies that decode larger than
// their JSON) drops what it recorded, and the views parse the files as
// without a record.
const RecordMax = 128 << 10

// Record is what the pass of a small chain merged: every entry of the
// stream, its body copied, with the position of its origin after it, from
// the state the pass started at. The segments of the index's views (and
// session views) render from it instead of parsing the files again.
// Never changed once made: the index and the segments made from it share
// it, and it is freed when the last of them lets it go (Index.Release,
// an update that finds other files, Segment.Release, ReleaseFiles).
type Record struct {
	start   chain.State
	entries []recorded
	bodies  []byte // every entry's body, in order
}

// recorded is one entry of a record.
type recorded struct {
	e   logline.Entry // Body points into the record's bodies
	end logline.Pos   // the position of e's origin after e
}

const recordedSize = int(unsafe.Sizeof(recorded{}))

// recordingOff turns records off (SetRecording).
var recordingOff atomic.Bool

// SetRecording turns records on or off for the passes that start after it
// (tests render every view both ways) and returns the function that puts
// back the setting it replaced.
func SetRecording(on bool) (restore func()) {
	was := !recordingOff.Swap(!on)
	return func() { recordingOff.Store(!was) }
}

// scratches holds the arrays passes record into (*Record with no
// start): each at most RecordMax, reused by the next pass, so that a
// pass neither grows its arrays nor keeps more than its record needs.
var scratches = sync.Pool{New: func() any { return new(Record) }}

// newRecord returns an empty record, in a scratch of the pool, of a pass
// over files for stream, or nil when files are too large to be recorded.
// The pass ends it with finish or discard.
func newRecord(files *chain.FileSet, stream logline.SourceMask) *Record {
	if recordingOff.Load() || files.Input(stream) > RecordInput {
		return nil
	}
	return scratches.Get().(*Record)
}

// recordSlot is the record of one index's files, shared by the index and
// the segments made from it: filled by the pass that indexed them, or by
// the first read that renders from the files (an index that no pass
// brought to its files: one unparked or restored), so that a view whose
// bytes the kernel's page cache serves costs no parse. Safe for
// concurrent use.
type recordSlot struct {
	mu     sync.Mutex
	done   bool    // rec is what there will be
	rec    *Record // nil: none (too large, or the parse failed)
	stream logline.SourceMask
	start  chain.State // of the index's first checkpoint
}

// filled returns a slot holding rec.
func filled(rec *Record) *recordSlot { return &recordSlot{done: true, rec: rec} }

// get returns the record, made from files (the segment's: the index's
// files when the slot was made) if no one made it yet.
func (c *recordSlot) get(files *chain.FileSet) *Record {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		c.done = true
		c.rec = recordFiles(files, c.stream, c.start)
	}
	return c.rec
}

// lazySlot returns the slot of x's files: the pass's, or an empty one
// that the first read fills when x is small and has no record; nil for a
// chain too large or a record given up.
func (x *Index) lazySlot() *recordSlot {
	if !x.tried && x.files != nil && len(x.Cps) == 1 {
		x.tried = true
		if !recordingOff.Load() && x.files.Input(x.stream) <= RecordInput {
			x.rec = &recordSlot{stream: x.stream, start: x.Cps[0].State}
		}
	}
	return x.rec
}

// derivedFrom returns the record of x's stream derived from the record
// of full, the index of the full merge, when full holds one of exactly
// files from start (so x's chain is small too); else nil.
func (x *Index) derivedFrom(full *Index, files *chain.FileSet, start chain.State) *Record {
	if full == nil || full == x || full.stream != logline.MaskAll || x.stream == logline.MaskAll ||
		len(x.Cps) != 1 || len(full.Cps) != 1 || full.rec == nil || full.files == nil || !full.files.SameAs(files) {
		return nil
	}
	full.rec.mu.Lock()
	r := full.rec.rec
	if !full.rec.done {
		r = nil
	}
	full.rec.mu.Unlock()
	if r == nil || r.start != start {
		return nil
	}
	return r.derive(x.stream)
}

// derive returns the record of the stream of mask over the files of r, a
// record of the full merge: r's entries of mask's sources merged again by
// (time, origin), as the merge of that stream yields them (a stream is the
// merge of its origins' sequences, and the full merge keeps the order of
// each). It shares r's bodies.
func (r *Record) derive(mask logline.SourceMask) *Record {
	n := 0
	for i := range r.entries {
		if mask.Has(r.entries[i].e.Source) {
			n++
		}
	}
	out := &Record{start: r.start, entries: make([]recorded, 0, n), bodies: r.bodies}
	var head [logline.NumOrigins]int // the next entry of each origin in r
	for o := range head {
		head[o] = r.nextOf(logline.Origin(o), mask, 0)
	}
	for {
		best := -1
		for o, i := range head {
			if i < len(r.entries) && (best < 0 || r.keyAt(i).Less(r.keyAt(head[best]))) {
				best = o
			}
		}
		if best < 0 {
			return out
		}
		out.entries = append(out.entries, r.entries[head[best]])
		head[best] = r.nextOf(logline.Origin(best), mask, head[best]+1)
	}
}

// nextOf returns the index of the first entry at or after i of origin o
// and a source of mask, or len(entries).
func (r *Record) nextOf(o logline.Origin, mask logline.SourceMask, i int) int {
	for ; i < len(r.entries); i++ {
		if e := &r.entries[i].e; e.Origin == o && mask.Has(e.Source) {
			return i
		}
	}
	return i
}

// keyAt returns the merge key of entry i.
func (r *Record) keyAt(i int) chain.Key {
	return chain.Key{Time: r.entries[i].e.Time, Origin: r.entries[i].e.Origin}
}

// derivedEnd returns the end state of a pass that replayed a derived
// record to its end (st, the state after its last entry) over the files
// whose full merge drained to full: every origin's cursor past its last
// complete line and each text origin's inherited time are the full
// merge's (the same readers read the same lines); exec's time is that of
// the stream's last exec entry, which st has.
func derivedEnd(st, full chain.State) chain.State {
	st.Cursor = full.Cursor
	for o := logline.OriginRuntime; o < logline.NumOrigins; o++ {
		st.Prev[o] = full.Prev[o]
	}
	return st
}

// recordFiles parses files from start into a record, or returns nil.
func recordFiles(files *chain.FileSet, stream logline.SourceMask, start chain.State) *Record {
	rec := newRecord(files, stream)
	if rec == nil {
		return nil
	}
	var m chain.Merger
	defer m.ReleaseBuffers()
	if err := m.Reset(files, stream, start); err != nil {
		rec.discard()
		return nil
	}
	start = m.State
	for {
		e, ok := m.Next()
		if !ok {
			break
		}
		if !rec.add(e, m.State.Cursor[e.Origin]) {
			rec.discard()
			return nil
		}
	}
	if m.Err() != nil {
		rec.discard()
		return nil
	}
	return rec.finish(start)
}

// add records e, after which e's origin stands at end. It returns false,
// and r must be dropped, when the record would pass RecordMax or e's body
// was measured but not decoded.
func (r *Record) add(e *logline.Entry, end logline.Pos) bool {
	if e.BodyLen() != len(e.Body) {
		return false
	}
	at := len(r.bodies)
	r.bodies = append(r.bodies, e.Body...)
	r.entries = append(r.entries, recorded{e: *e, end: end})
	r.entries[len(r.entries)-1].e.Body = r.bodies[at:len(r.bodies):len(r.bodies)]
	return cap(r.entries)*recordedSize+cap(r.bodies) <= RecordMax
}

// finish returns the record of the scratch r, in arrays of its size,
// from start, and gives r back to the pool.
func (r *Record) finish(start chain.State) *Record {
	out := &Record{start: start, entries: append([]recorded(nil), r.entries...), bodies: append([]byte(nil), r.bodies...)}
	at := 0
	for i := range out.entries {
		e := &out.entries[i].e
		n := len(e.Body)
		e.Body = out.bodies[at : at+n : at+n]
		at += n
	}
	r.discard()
	return out
}

// discard gives the scratch r back to the pool, without its bodies'
// references.
func (r *Record) discard() {
	if r == nil {
		return
	}
	if cap(r.entries)*recordedSize+cap(r.bodies) > RecordMax {
		return // dropped past the bound: not kept either
	}
	clear(r.entries)
	r.entries, r.bodies = r.entries[:0], r.bodies[:0]
	scratches.Put(r)
}

// Bytes returns the memory r holds.
func (r *Record) Bytes() int {
	if r == nil {
		return 0
	}
	return int(unsafe.Sizeof(*r)) + cap(r.entries)*recordedSize + cap(r.bodies)
}

// find returns the index of the entry that follows state st, len(entries)
// for the state after the last one; ok is false if no entry boundary of r
// is at st.
func (r *Record) find(st *chain.State) (int, bool) {
	if r == nil {
		return 0, false
	}
	cur := r.start
	for i := range r.entries {
		if cur == *st {
			return i, true
		}
		r.entries[i].advance(&cur)
	}
	return len(r.entries), cur == *st
}

// advance moves st past the recorded entry, as the merge does.
func (rc *recorded) advance(st *chain.State) {
	st.Cursor[rc.e.Origin] = rc.end
	st.Prev[rc.e.Origin] = rc.e.Time
}
