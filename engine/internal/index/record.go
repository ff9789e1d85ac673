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
	if recordingOff.Load() || inputOf(files, stream) > RecordInput {
		return nil
	}
	return scratches.Get().(*Record)
}

// recordOnce makes the record of an index of a small chain that no pass
// of its files made (one restored or unparked), so that the views opened
// from now on render from it: the one parse that the first read of a view
// makes anyway. It tries once per files.
func (x *Index) recordOnce() {
	if x.tried || x.rec != nil || x.files == nil || len(x.Cps) != 1 {
		return
	}
	x.tried = true
	rec := newRecord(x.files, x.stream)
	if rec == nil {
		return
	}
	var m chain.Merger
	defer m.ReleaseBuffers()
	if err := m.Reset(x.files, x.stream, x.Cps[0].State); err != nil {
		rec.discard()
		return
	}
	start := m.State
	for {
		e, ok := m.Next()
		if !ok {
			break
		}
		if !rec.add(e, m.State.Cursor[e.Origin]) {
			rec.discard()
			return
		}
	}
	if m.Err() != nil {
		rec.discard()
		return
	}
	x.rec = rec.finish(start)
}

// inputOf returns the bytes of the files a pass of stream reads.
func inputOf(files *chain.FileSet, stream logline.SourceMask) int64 {
	var n int64
	for o := range logline.NumOrigins {
		if o != logline.OriginExec && !stream.TextOrigins() {
			continue
		}
		for _, f := range files.Origin(o) {
			n += max(f.Size, 0)
		}
	}
	return n
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

// feed is where a segment's entries come from: its record, from any
// state at an entry boundary of the record, else the merge of its files.
// A replay parses nothing, so it reads no bytes and skips no lines.
type feed struct {
	m      chain.Merger
	rec    *Record // shared, read only; nil: always merge
	replay bool
	next   int           // replay: the entry Next returns
	st     chain.State   // replay: the state after the entries returned
	cur    logline.Entry // replay: the entry returned last (a copy: rendering may outlive no other)
}

// reset positions f at st: in its record if st is at one of its entry
// boundaries, else in a merge of files for stream.
func (f *feed) reset(files *chain.FileSet, stream logline.SourceMask, st chain.State) error {
	if i, ok := f.rec.find(&st); ok {
		f.m.ReleaseBuffers()
		f.m = chain.Merger{} // its counts start again, as at a reset
		f.replay, f.next, f.st = true, i, st
		return nil
	}
	f.replay = false
	f.m.AllowAhead() // release and the end of a read call ReleaseBuffers
	return f.m.Reset(files, stream, st)
}

// Next returns the next entry, valid until the following call.
func (f *feed) Next() (*logline.Entry, bool) {
	if !f.replay {
		return f.m.Next()
	}
	if f.next >= len(f.rec.entries) {
		return nil, false
	}
	rc := &f.rec.entries[f.next]
	f.next++
	rc.advance(&f.st)
	f.cur = rc.e
	return &f.cur, true
}

// state returns the state after the entries returned since the reset.
func (f *feed) state() *chain.State {
	if f.replay {
		return &f.st
	}
	return &f.m.State
}

// Read returns the input bytes the merge scanned since its reset.
func (f *feed) Read() int64 {
	if f.replay {
		return 0
	}
	return f.m.Read()
}

// Counts returns the lines the merge skipped since its reset.
func (f *feed) Counts() chain.Counts {
	if f.replay {
		return chain.Counts{}
	}
	return f.m.Counts()
}

// Err returns the merge's first read error.
func (f *feed) Err() error {
	if f.replay {
		return nil
	}
	return f.m.Err()
}

// ReleaseBuffers gives back the merge's buffers; f must be reset before
// its next use.
func (f *feed) ReleaseBuffers() { f.m.ReleaseBuffers() }

// drop gives back the merge's buffers and the decoding buffers a long
// line grew; f keeps its record.
func (f *feed) drop() {
	f.m.ReleaseBuffers()
	f.m, f.replay = chain.Merger{}, false
}

// ParsingAhead reports whether the merge parses ahead now.
func (f *feed) ParsingAhead() bool { return !f.replay && f.m.ParsingAhead() }
