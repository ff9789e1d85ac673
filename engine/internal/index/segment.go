package index

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/microsandbox/msb-logfs/engine/internal/cache"
	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// CheckpointEvery is the spacing of checkpoints, in bytes of input.
const CheckpointEvery = 48 << 10

// Checkpoint is a resumable point of a merge and the rendered offset of
// every tracked view there.
type Checkpoint struct {
	Serial uint64 // unique within its index's life: names cached chunks
	State  chain.State
	Offs   [MaxTracked]int64
	RunMax chain.Key    // the largest key of the entries before it
	counts chain.Counts // lines skipped before it
	IDs    []IDStat     // the sessions of the interval that ends here, by id; shared, never changed
}

// Segment is a bounded stretch of one view: from the state of cps[0] to the
// end of its files, rendered in the view's format. It renders any byte range
// by resuming from the nearest checkpoint. Safe for concurrent use.
type Segment struct {
	view  render.View
	slot  int // the view's slot in checkpoint offsets
	files *chain.FileSet
	Wit   *chain.Witness // of files: a file rewritten in place loses the bytes
	Cps   []Checkpoint   // cps[0] is the start; offsets are from the start
	Size  int64

	Cache *cache.Cache // nil: render every read

	mu      sync.Mutex
	m       feed // the merge of files, or the record of the pass that made the index
	r       render.Renderer
	ready   bool             // m, pending and part continue at next
	next    int64            // offset of pending[0]
	pending []byte           // rendered bytes not yet returned
	part    render.EntryPart // the entry whose rendering goes on after pending
	chunk   []byte           // a chunk being rendered for the cache
	resume  resumePoint
	at      int   // the checkpoint the merge last started from or reached
	Parsed  int64 // input bytes the segment's merges scanned (tests)
}

// resumePoint is where the last read that reached the end of what existed
// stopped: a follower's next read starts there, not at a checkpoint, even
// though the reader's buffers were given back meanwhile.
type resumePoint struct {
	ok    bool
	off   int64
	state chain.State
}

// ReadAt reads the segment's bytes at off.
func (s *Segment) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.Size {
		return 0, io.EOF
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.fillCached(p, off)
	if err == nil && n < len(p) && off+int64(n) < s.Size {
		if !s.ready || off+int64(n) < s.next || s.checkpointBefore(off+int64(n)) > s.next+int64(len(s.pending)) {
			err = s.seek(off + int64(n))
		}
		if err == nil {
			var c int
			c, err = s.fill(p[n:], off+int64(n))
			n += c
		}
	}
	if off+int64(n) >= s.Size { // read to the end: keep no buffers while idle
		if s.ready && err == nil && s.part.Done() {
			s.resume = resumePoint{ok: true, off: s.next + int64(len(s.pending)), state: *s.m.state()}
		}
		s.Parsed += s.m.Read()
		s.m.drop() // nor the decoding buffers a long line grew
		s.pending, s.chunk, s.ready, s.part = nil, nil, false, render.EntryPart{}
	}
	if err != nil && n == 0 {
		return 0, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// chunkMax is the largest chunk rendered into memory for the render cache;
// a larger one (a chunk holding a huge entry) is served by rendering in
// pieces every time.
const chunkMax = 4 << 20

// fillCached serves p from whole chunks — the bytes between two
// checkpoints — through the render cache, rendering and storing a chunk
// that is not there yet. It stops at the last checkpoint (the tail after it
// is not a whole chunk) and before a chunk larger than chunkMax.
func (s *Segment) fillCached(p []byte, off int64) (int, error) {
	n := 0
	for s.Cache != nil && n < len(p) && off < s.Size {
		i := s.checkpointIndex(off)
		if i+1 >= len(s.Cps) {
			break
		}
		from, to := s.Cps[i].Offs[s.slot], s.Cps[i+1].Offs[s.slot]
		if to-from > chunkMax {
			break
		}
		k := cache.Key{From: s.Cps[i].Serial, To: s.Cps[i+1].Serial, Slot: s.slot, ByID: s.view.ByID, ID: s.view.ID}
		if c, ok := s.Cache.Read(k, p[n:], off-from); ok {
			n += c
			off += int64(c)
			continue
		}
		data, err := s.renderChunk(i)
		if err != nil {
			return n, err
		}
		if int64(len(data)) != to-from {
			return n, fmt.Errorf("chunk %d of %v rendered %d bytes, index says %d", i, s.view, len(data), to-from)
		}
		s.Cache.Store(k, data)
		c := copy(p[n:], data[off-from:])
		n += c
		off += int64(c)
	}
	return n, nil
}

// renderChunk renders the view's bytes between checkpoints i and i+1,
// continuing the merge if it stands at checkpoint i.
func (s *Segment) renderChunk(i int) ([]byte, error) {
	if !s.ready || len(s.pending) != 0 || !s.part.Done() || *s.m.state() != s.Cps[i].State {
		if err := s.reset(s.Cps[i].State); err != nil {
			return nil, err
		}
	}
	end := s.Cps[i+1].State
	s.chunk = s.chunk[:0]
	for *s.m.state() != end {
		e, ok := s.m.Next()
		if !ok {
			if err := s.m.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("chunk %d of %v: the merge ended before its checkpoint", i, s.view)
		}
		if s.view.Includes(e) {
			s.chunk = s.r.AppendEntry(s.chunk, s.view.Format, e, &s.m.state().Cursor)
		}
	}
	s.next, s.pending, s.ready, s.part, s.at = s.Cps[i+1].Offs[s.slot], s.pending[:0], true, render.EntryPart{}, i+1
	return s.chunk, nil
}

// fill copies the segment's bytes at off into p. Entries that fit are
// rendered straight into p; the one that straddles its end is rendered into
// pending, and the rest of it is served by the next call. A long entry is
// rendered into pending piece by piece.
func (s *Segment) fill(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < s.Size {
		if off >= s.next && off < s.next+int64(len(s.pending)) {
			want := min(int64(len(p)-n), s.Size-off)
			c := copy(p[n:n+int(want)], s.pending[off-s.next:])
			n += c
			off += int64(c)
			continue
		}
		s.next += int64(len(s.pending))
		s.pending = s.pending[:0]
		if err := s.skipGap(off); err != nil {
			return n, err
		}
		if off == s.next && s.part.Done() && len(p)-n >= directMin && s.Size-off >= int64(len(p)-n) {
			c, ok := s.renderInto(p[n:], off)
			n += c
			off += int64(c)
			s.next = off
			if !ok {
				break
			}
			continue
		}
		if !s.renderNext() {
			break
		}
	}
	return n, s.m.Err()
}

// directMin is the least room in a read buffer worth rendering into.
const directMin = 4 << 10

// renderInto renders whole entries straight into p, at offset off, while
// they fit, and the first that does not, or the first piece of a long one,
// into pending. It stops at the next checkpoint of a session segment, where
// skipGap may jump. ok is false at the end of the merge.
func (s *Segment) renderInto(p []byte, off int64) (n int, ok bool) {
	stop := s.nextCheckpoint(off)
	for {
		e, more := s.m.Next()
		if !more {
			return n, false
		}
		if !s.view.Includes(e) {
			continue
		}
		if len(e.Body) > render.WholeMax {
			s.part.Begin(s.view.Format, e, &s.m.state().Cursor)
			s.pending = s.r.AppendPiece(s.pending[:0], &s.part)
			return n, true
		}
		out := s.r.AppendEntry(p[n:n], s.view.Format, e, &s.m.state().Cursor)
		if len(out) > len(p)-n { // append moved it: it did not fit
			s.pending = append(s.pending[:0], out...)
			return n, true
		}
		n += len(out)
		if len(p)-n < directMin || off+int64(n) == stop {
			return n, true
		}
	}
}

// skipGap moves the merge of a session segment, standing between entries
// at off, to the last checkpoint at off if it has not started from or
// reached it: the checkpoints of a session segment bound only the
// intervals that hold the session, and the merge does not parse those in
// between. Everything before that checkpoint renders before off, so the
// jump skips nothing of the view.
func (s *Segment) skipGap(off int64) error {
	if !s.view.ByID || off != s.next || !s.part.Done() {
		return nil
	}
	i := s.checkpointIndex(off)
	if i <= s.at || s.Cps[i].Offs[s.slot] != off {
		return nil
	}
	if !s.adjacent(s.at, i) { // an interval without the session lies between
		if err := s.reset(s.Cps[i].State); err != nil {
			return err
		}
	}
	s.at = i
	return nil
}

// adjacent reports whether checkpoints from..to follow one another in
// their index (consecutive serials), so that the merge goes through them
// without parsing an interval the segment skips.
func (s *Segment) adjacent(from, to int) bool {
	for j := from + 1; j <= to; j++ {
		if s.Cps[j].Serial != s.Cps[j-1].Serial+1 {
			return false
		}
	}
	return true
}

// nextCheckpoint returns the offset of the first checkpoint of a session
// segment at or after off that the merge has not started from or reached,
// or -1.
func (s *Segment) nextCheckpoint(off int64) int64 {
	if !s.view.ByID {
		return -1
	}
	j := max(sort.Search(len(s.Cps), func(j int) bool { return s.Cps[j].Offs[s.slot] >= off }), s.at+1)
	if j >= len(s.Cps) {
		return -1
	}
	return s.Cps[j].Offs[s.slot]
}

// checkpointIndex returns the last checkpoint at or before off.
func (s *Segment) checkpointIndex(off int64) int {
	return max(sort.Search(len(s.Cps), func(i int) bool { return s.Cps[i].Offs[s.slot] > off })-1, 0)
}

// checkpointBefore returns the offset of the last checkpoint at or before
// off: a read past it is better served from there than by rendering
// forward from where the last read ended.
func (s *Segment) checkpointBefore(off int64) int64 {
	return s.Cps[s.checkpointIndex(off)].Offs[s.slot]
}

// seek positions the merge at the last checkpoint at or before off, or at
// the resume point if that is nearer.
func (s *Segment) seek(off int64) error {
	i := s.checkpointIndex(off)
	cp := &s.Cps[i]
	s.at = i
	if r := s.resume; r.ok && r.off <= off && r.off > cp.Offs[s.slot] {
		if s.reset(r.state) == nil {
			s.next, s.pending, s.ready, s.part = r.off, s.pending[:0], true, render.EntryPart{}
			return nil
		}
	}
	if err := s.reset(cp.State); err != nil {
		return err
	}
	s.next, s.pending, s.ready, s.part = cp.Offs[s.slot], s.pending[:0], true, render.EntryPart{}
	return nil
}

// reset positions the merge at st, unless a file the segment reads was
// rewritten in place since its bytes were measured.
func (s *Segment) reset(st chain.State) error {
	if s.files == nil {
		return fmt.Errorf("%v: %w", s.view, ErrNotKept)
	}
	if chain.AnyChanged(s.Wit.Changed(s.files)) {
		return fmt.Errorf("%v: %w", s.view, chain.ErrRewritten)
	}
	s.Parsed += s.m.Read()
	return s.m.reset(s.files, s.view.Stream(), st)
}

// renderNext renders the next piece of the entry in progress, or the
// next entry of the view (its first piece if it is long), into pending.
func (s *Segment) renderNext() bool {
	if !s.part.Done() {
		s.pending = s.r.AppendPiece(s.pending, &s.part)
		return true
	}
	for {
		e, ok := s.m.Next()
		if !ok {
			return false
		}
		if s.view.Includes(e) {
			s.part.Begin(s.view.Format, e, &s.m.state().Cursor)
			s.pending = s.r.AppendPiece(s.pending, &s.part)
			return true
		}
	}
}

// Release drops the segment's files.
func (s *Segment) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.drop() // stops a parse-ahead before its files go
	s.m.slot, s.m.rec = nil, nil
	s.files.Release()
	s.files = nil
	s.Cache.Release()
	s.Cache = nil
	s.ready = false
}

// ErrNotKept is returned by a read of a segment whose files were released
// (ReleaseFiles) that needs bytes its render cache does not keep.
var ErrNotKept = errors.New("bytes shown before a rotation dropped their log file are no longer kept by the render cache")

// ReleaseFiles releases the segment's files but keeps its render cache: it
// reads on from the chunks the cache keeps, and a read that must render
// fails with ErrNotKept.
func (s *Segment) ReleaseFiles() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.drop()                   // stops a parse-ahead before its files go
	s.m.slot, s.m.rec = nil, nil // a read that must render fails, as for a segment without a record
	s.files.Release()
	s.files = nil
	s.pending, s.chunk, s.ready, s.part, s.resume = nil, nil, false, render.EntryPart{}, resumePoint{}
}

// CachedPrefix returns the offset of the segment's last checkpoint when it
// has a render cache: the bytes before it are whole chunks, which the cache
// may keep; 0 without a cache.
func (s *Segment) CachedPrefix() int64 {
	if s.Cache == nil {
		return 0
	}
	return s.Cps[len(s.Cps)-1].Offs[s.slot]
}

// HoldsOutside reports whether the segment reads a file that cur does not
// hold: one that a rotation dropped since the segment's files were opened.
func (s *Segment) HoldsOutside(cur *chain.FileSet) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files != nil && s.files.HoldsOutside(cur)
}

// Skipped returns the lines the segment's merge skipped since its last
// reset.
func (s *Segment) Skipped() chain.Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.Counts()
}

// Buffered returns the capacity of the buffers the segment keeps between
// reads.
func (s *Segment) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cap(s.pending) + cap(s.chunk)
}

// ParsingAhead reports whether the segment's merge parses ahead now.
func (s *Segment) ParsingAhead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.ParsingAhead()
}
