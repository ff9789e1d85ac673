package chain

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/internal/cores"
)

// AheadConfig is the parse-ahead's settings.
type AheadConfig struct {
	Span    int64 // the input of one span, in bytes
	BigLine int   // the longest line a worker parses; the reader parses longer ones
	// After is how much a reader reads serially before it starts parsing
	// ahead: a short read (a random 4 KiB read of a view renders from a
	// checkpoint 48 KiB back) never starts workers.
	After   int64
	Least   int64 // the least input left that is worth parsing ahead
	Workers int   // the most workers of one reader
	// ReaderFirst makes the reader take the next span itself whenever no
	// worker has, even when a batch may be on its way (tests use it to
	// exercise both ways a span is parsed).
	ReaderFirst bool
}

var aheadDefaults = AheadConfig{Span: 512 << 10, BigLine: 2 << 20, After: 256 << 10, Least: 2 << 20, Workers: 4}

// aheadSettings holds the settings in use when not the defaults (tests
// and the …Serial benchmarks set others).
var aheadSettings atomic.Pointer[AheadConfig]

// AheadNow returns the settings in use.
func AheadNow() *AheadConfig {
	if c := aheadSettings.Load(); c != nil {
		return c
	}
	return &aheadDefaults
}

// SetAhead makes c the parse-ahead's settings (nil: the defaults) and
// returns the function that puts back the ones it replaced.
func SetAhead(c *AheadConfig) (restore func()) {
	saved := aheadSettings.Swap(c)
	return func() { aheadSettings.Store(saved) }
}

// aheadKeep is the largest decoding buffer a worker keeps after a span.
const aheadKeep = 1 << 20

// aheadLive counts the parse-ahead workers running in the process.
var aheadLive atomic.Int64

// AheadRunning returns how many parse-ahead workers run in the process.
func AheadRunning() int64 { return aheadLive.Load() }

// takeWorkers reserves up to want workers in aheadLive, so that the
// workers of every read of the process together never outnumber the cores
// parallel work may use (cores.Wide; nor their batches twice that): a
// read that finds none free reads serially, as it would on one core. Each
// worker gives its place back when it ends.
func takeWorkers(want int) int {
	for {
		live := aheadLive.Load()
		n := min(int64(want), int64(cores.Wide())-live)
		if n < 1 {
			return 0
		}
		if aheadLive.CompareAndSwap(live, live+n) {
			return int(n)
		}
	}
}

// aheadWorkers returns how many workers a parse-ahead runs: one per core
// parallel work may use, at most c.workers. Below two, the reader parses
// serially (one core gains nothing from a hand-over).
func (c *AheadConfig) aheadWorkers() int { return min(cores.Wide(), c.Workers) }

// span is the part of one file of the chain whose lines a worker parses.
type span struct {
	idx      int   // the file's index in the chain
	from, to int64 // the lines that start in [from, to)
	first    bool  // a line starts at from: the reader's position or the file's start
}

// record is one entry of a spanBatch, with what the reader counts up to
// it. It is kept small (88 bytes): the reader reads every record from
// another core's cache.
type record struct {
	time    logline.Time
	id      uint64
	stats   logline.BodyStats
	bodyEnd int   // its body is data[the previous record's bodyEnd:bodyEnd]
	end     int64 // the offset just past its line, in the span's file
	read    int64 // bytes of lines scanned since the previous record, its own included
	sizes   [logline.NumFormats]uint32
	source  logline.Source
	hasID   bool
	utf8    bool
	skipped bool // lines were skipped since the previous record: the batch's next skips
}

// fill sets e to r's entry, with body; sized: r's sizes were measured
// (parseAhead.measure).
func (r *record) fill(e *logline.Entry, body []byte, sized bool) {
	*e = logline.Entry{Time: r.time, Source: r.source, Origin: logline.OriginExec, HasID: r.hasID, ID: r.id, Body: body}
	if r.utf8 {
		e.SetDecoded(r.stats)
	}
	if sized {
		e.SetSizes(r.sizes)
	}
}

// spanBatch is the parsed content of one span.
type spanBatch struct {
	recs  []record
	data  []byte      // the bodies
	skips []Counts    // the lines skipped before each record that has skipped set
	gen   uint64      // the generation of the span's file
	read  int64       // bytes scanned after the last record
	skip  Counts      // lines skipped after the last record
	empty bool        // no line starts in the span
	end   logline.Pos // the position after the span's last line
	start int64       // the offset of the span's first line
	rest  int64       // >= 0: the worker stopped before a long line there, or a fault
	err   error
}

// parseAhead runs the workers of one reader and hands their batches over
// in span order.
type parseAhead struct {
	files   *FileSet // the clone the workers read
	chain   []FileRef
	mask    logline.SourceMask
	measure func(*logline.Entry) // sizes each record (originReader.measure); nil: none
	keep    logline.SourceMask   // and keep the bodies of these sources only
	long    int                  // the settings' BigLine at the start
	first   bool                 // the settings' ReaderFirst at the start
	spans   []span
	taken   atomic.Int64 // spans taken by workers
	free    chan *spanBatch
	ready   []chan *spanBatch // span i's spanBatch is sent on ready[i%len(ready)]
	quit    chan struct{}
	wg      sync.WaitGroup

	// The reader's side.
	self     originReader // parses a span no worker has taken yet
	own      *spanBatch   // the batch self parses into, not one of free's
	got      int          // spans received
	cur      *spanBatch   // the span being replayed
	at       int          // its next record
	bodyAt   int          // where that record's body starts in cur.data
	skipAt   int          // cur's next skips
	tailDone bool         // its trailing counts were added
	inRest   bool         // the reader's scanner parses the rest of its span
	done     bool         // every span replayed, or an error
	pos      logline.Pos  // the position of the next unconsumed byte
}

// startAhead starts parsing the rest of the chain ahead, from the
// position of r's scanner, if enough is left. The bytes r's scanner read
// ahead are dropped.
func (r *originReader) startAhead() bool {
	s := &r.scan
	c := AheadNow()
	if r.set == nil || s.err != nil || s.limited || c.aheadWorkers() < 2 || s.idx >= len(s.files) {
		return false
	}
	spans, left := cutSpans(s.files, s.idx, s.off, c.Span)
	if left < c.Least {
		return false
	}
	workers := takeWorkers(c.aheadWorkers())
	if workers == 0 {
		return false // every core already parses ahead for another read
	}
	a := &parseAhead{files: r.set.Clone(), mask: r.mask, measure: r.measure, keep: r.keep, long: c.BigLine, first: c.ReaderFirst, spans: spans, quit: make(chan struct{}), pos: s.pos()}
	a.chain = a.files.Origin(logline.OriginExec)
	a.self.origin, a.self.mask = logline.OriginExec, r.mask
	a.self.json = a.parser()
	a.own = getBatch()
	n := 2 * workers
	a.free = make(chan *spanBatch, n)
	a.ready = make([]chan *spanBatch, n)
	for i := range n {
		a.free <- getBatch()
		a.ready[i] = make(chan *spanBatch, 1)
	}
	a.wg.Add(workers)
	for range workers {
		go a.work(cores.Widen())
	}
	s.releaseBuffer()
	r.ahead = a
	return true
}

// cutSpans cuts the chain from offset off of files[idx] into spans of
// length bytes, and returns them with the bytes they cover. Every file has
// at least one span, so that the position after the last one is in the
// last file.
func cutSpans(files []FileRef, idx int, off, length int64) ([]span, int64) {
	var spans []span
	var left int64
	for i := idx; i < len(files); i++ {
		from := int64(0)
		if i == idx {
			from = off
		}
		size := max(files[i].Size, from)
		left += size - from
		for at, first := from, true; first || at < size; at, first = at+length, false {
			spans = append(spans, span{idx: i, from: at, to: min(at+length, size), first: first})
		}
	}
	return spans, left
}

// stopAhead stops r's parse-ahead, if any, and waits for its workers.
func (r *originReader) stopAhead() {
	if r.ahead != nil {
		r.ahead.stop()
		r.ahead = nil
	}
	r.mayAhead = false
}

// stop ends the workers, waits for them and releases the files.
func (a *parseAhead) stop() {
	if a.files == nil {
		return
	}
	close(a.quit)
	a.wg.Wait()
	a.recycle()
	a.self.scan.releaseBuffer()
	a.self.json.ReleaseBuffers()
	a.files.Release()
	a.files, a.chain, a.cur, a.own, a.free, a.ready = nil, nil, nil, nil, nil, nil
	a.done = true
}

// batchPool recycles the batches of ended parse-aheads, so that a read
// does not grow its batches' records and bodies again.
var batchPool = sync.Pool{New: func() any { return new(spanBatch) }}

// getBatch returns an empty batch.
func getBatch() *spanBatch { return batchPool.Get().(*spanBatch) }

// putBatch gives b back for reuse, without the buffers a long line grew
// past aheadKeep.
func putBatch(b *spanBatch) {
	recs, data, skips := b.recs[:0], b.data[:0], b.skips[:0]
	if cap(data) > aheadKeep {
		data = nil
	}
	if cap(recs)*int(unsafe.Sizeof(record{})) > aheadKeep {
		recs = nil
	}
	*b = spanBatch{recs: recs, data: data, skips: skips} // records hold no pointer
	batchPool.Put(b)
}

// recycle gives back every batch the reader holds or its workers left in
// the channels; the workers have ended, each putting back in free the
// batch it held. Each batch is in one place (free, a ready slot, cur,
// own), so none is given back twice.
func (a *parseAhead) recycle() {
	for drained := false; !drained; {
		select {
		case b := <-a.free:
			putBatch(b)
		default:
			drained = true
		}
	}
	for _, slot := range a.ready {
		select {
		case b := <-slot:
			putBatch(b)
		default:
		}
	}
	if a.cur != nil && a.cur != a.own {
		putBatch(a.cur)
	}
	putBatch(a.own)
}

// work parses spans until none is left or the reader stops, and then gives
// back its lease of the cores (cores.Widen, taken before it started).
func (a *parseAhead) work(unlease func()) {
	defer a.wg.Done()
	defer aheadLive.Add(-1) // before Done: none is counted once stop returns
	defer unlease()
	var w originReader
	w.origin, w.mask = logline.OriginExec, a.mask
	w.json = a.parser()
	defer w.scan.releaseBuffer()
	defer w.json.ReleaseBuffers()
	for {
		var b *spanBatch
		select {
		case b = <-a.free:
		case <-a.quit:
			return
		}
		i := int(a.taken.Add(1)) - 1
		if i >= len(a.spans) {
			a.free <- b // never full: b came from it; recycle finds it there
			return
		}
		a.parse(&w, b, a.spans[i])
		select {
		case a.ready[i%len(a.ready)] <- b: // never full: see parseAhead
		case <-a.quit:
			a.free <- b
			return
		}
	}
}

// parse parses the lines that start in sp into b, with w.
func (a *parseAhead) parse(w *originReader, b *spanBatch, sp span) {
	*b = spanBatch{recs: b.recs[:0], data: b.data[:0], skips: b.skips[:0], gen: a.chain[sp.idx].Gen, rest: -1}
	from := sp.from
	if !sp.first {
		var ok bool
		var err error
		if from, ok, err = lineStart(a.chain[sp.idx], sp.from, sp.to); err != nil || !ok {
			b.empty, b.err = true, err
			return
		}
	}
	w.scan.Reset(a.chain, sp.idx, from)
	w.scan.limit(sp.idx, sp.to, a.long)
	w.read, w.counts = 0, Counts{}
	m, mapped := mapSpan(a.chain[sp.idx], from, sp.to, a.long)
	if !mapped {
		a.parseLines(w, b, from)
		return
	}
	w.scan.useMapping(m.data, m.at)
	if m.faults(func() { a.parseLines(w, b, from) }) {
		a.leaveRest(w, b)
	}
	w.scan.releaseBuffer()
	m.unmap()
}

// leaveRest ends b after its last record, when its span's file faulted
// while w parsed it through a mapping (the file is shorter than its bound
// now): the merge's reader parses the rest of the span itself, with pread,
// as a serial read would. The fault came before the record of the line
// being parsed, and before anything of it was added to b; w's parser is
// made new, as it may have stopped in the middle of an update.
func (a *parseAhead) leaveRest(w *originReader, b *spanBatch) {
	at := b.start
	if n := len(b.recs); n > 0 {
		at = b.recs[n-1].end
	}
	b.read, b.skip = 0, Counts{}
	b.end, b.rest = logline.Pos{Gen: b.gen, Offset: uint64(at)}, at
	w.json.ReleaseBuffers()
	w.json = a.parser()
}

// parser returns a parser for a's spans: it decodes the bodies of a's
// sources, and when a sizes its entries, only measures those whose
// bodies it does not keep.
func (a *parseAhead) parser() logline.JSONParser {
	p := logline.JSONParser{Only: a.mask}
	if a.measure != nil {
		p.Measured = a.mask &^ a.keep
	}
	return p
}

// parseLines parses into b the lines w's scanner yields, from offset from
// of the span's file.
func (a *parseAhead) parseLines(w *originReader, b *spanBatch, from int64) {
	b.start = from
	var read int64
	var counts Counts
	var e logline.Entry
	var end logline.Pos
	for w.nextLine(&e, &end) {
		if a.measure != nil {
			a.measure(&e)
		}
		if a.measure == nil || a.keep.Has(e.Source) {
			b.data = append(b.data, e.Body...)
		}
		stats, utf8 := e.Decoded()
		rec := record{time: e.Time, id: e.ID, stats: stats, bodyEnd: len(b.data), end: int64(end.Offset),
			read: w.read - read, source: e.Source, hasID: e.HasID, utf8: utf8, skipped: w.counts != counts}
		if a.measure != nil {
			for f := range logline.Format(logline.NumFormats) {
				n, _ := e.MeasuredSize(f)
				rec.sizes[f] = uint32(n)
			}
		}
		b.recs = append(b.recs, rec)
		if w.counts != counts {
			b.skips = append(b.skips, w.counts.minus(counts))
		}
		read, counts = w.read, w.counts
	}
	b.read, b.skip = w.read-read, w.counts.minus(counts)
	b.end, b.err = w.scan.pos(), w.scan.err
	if w.scan.long {
		b.rest = w.scan.off
	}
	if w.json.BufferCap() > aheadKeep { // a long line grew them
		w.json.ReleaseBuffers()
	}
}

// lineStart returns the first offset in [from, to) of f at which a line
// starts (the byte before it is a newline); ok is false if none does.
func lineStart(f FileRef, from, to int64) (int64, bool, error) {
	var buf [4 << 10]byte // lines are short: most spans read only this
	for at := from - 1; at < to-1; {
		n, err := f.File.ReadAt(buf[:min(int64(len(buf)), to-1-at)], at)
		for i, c := range buf[:n] {
			if c == '\n' {
				return at + int64(i) + 1, true, nil
			}
		}
		at += int64(n)
		if err != nil && err != io.EOF {
			return 0, false, fmt.Errorf("read %s: %w", f.File.Name(), err)
		}
		if n == 0 {
			break
		}
	}
	return 0, false, nil
}

// nextAhead reads the next entry of the batches, in span order, into e
// and the position after it into end; false at the end.
func (r *originReader) nextAhead(e *logline.Entry, end *logline.Pos) bool {
	a := r.ahead
	for !a.done {
		if a.cur == nil {
			a.receive(r)
			continue
		}
		b := a.cur
		if a.at < len(b.recs) {
			rec := &b.recs[a.at]
			a.at++
			r.read += rec.read
			if rec.skipped {
				r.counts.Add(b.skips[a.skipAt])
				a.skipAt++
			}
			rec.fill(e, b.data[a.bodyAt:rec.bodyEnd:rec.bodyEnd], a.measure != nil)
			a.bodyAt = rec.bodyEnd
			*end = logline.Pos{Gen: b.gen, Offset: uint64(rec.end)}
			return true
		}
		if !a.tailDone {
			a.tailDone = true
			r.read += b.read
			r.counts.Add(b.skip)
			if !b.empty {
				a.pos = b.end
			}
			if b.rest >= 0 {
				sp := a.spans[a.got-1]
				r.scan.Reset(a.chain, sp.idx, b.rest)
				r.scan.limit(sp.idx, sp.to, 0)
				a.inRest = true
			}
		}
		if a.inRest {
			if r.nextLine(e, end) {
				return true
			}
			a.inRest = false
			a.pos = r.scan.pos()
			if r.scan.err != nil {
				a.stop()
				break
			}
		}
		a.cur = nil
		if b != a.own {
			a.free <- b // room: this batch came from free
		}
	}
	return false
}

// receive takes the next span's batch, or stops a at the end or on an
// error (which r's scanner then reports). If no worker has taken that span
// yet (they are all busy, or not scheduled on a busy machine), the reader
// parses it itself rather than wait.
func (a *parseAhead) receive(r *originReader) {
	if a.got == len(a.spans) {
		a.stop()
		return
	}
	slot := a.ready[a.got%len(a.ready)]
	var b *spanBatch
	if !a.first {
		select {
		case b = <-slot:
		default:
		}
	}
	if b == nil {
		if a.taken.CompareAndSwap(int64(a.got), int64(a.got)+1) {
			b = a.own
			a.parse(&a.self, b, a.spans[a.got])
		} else {
			b = <-slot
		}
	}
	a.got++
	if b.err != nil {
		r.scan.err = b.err
		a.stop()
		return
	}
	a.cur, a.at, a.bodyAt, a.skipAt, a.tailDone = b, 0, 0, 0, false
}

// minus returns c less o.
func (c Counts) minus(o Counts) Counts {
	return Counts{Malformed: c.Malformed - o.Malformed, TooLong: c.TooLong - o.TooLong, Empty: c.Empty - o.Empty}
}
