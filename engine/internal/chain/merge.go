package chain

import (
	"errors"
	"fmt"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// State is a resumable point of a merge: the position of every origin after
// the entries consumed so far, and the timestamp the next unstamped line of
// each text origin inherits.
type State struct {
	Cursor logline.Cursor
	Prev   [logline.NumOrigins]logline.Time
}

// Key orders entries in the merge: by time, then by origin.
type Key struct {
	Time   logline.Time
	Origin logline.Origin
}

// Less reports whether k sorts before o.
func (k Key) Less(o Key) bool {
	return k.Time.Less(o.Time) || (k.Time == o.Time && k.Origin < o.Origin)
}

// MinKey is below the key of any entry.
var MinKey = Key{Time: logline.TimeBottom}

// Merger yields the stable merge by timestamp of the origins a stream reads,
// bounded by one FileSet. An origin's own order is never changed.
type Merger struct {
	r      [logline.NumOrigins]originReader
	active [logline.NumOrigins]bool
	head   [logline.NumOrigins]logline.Entry
	end    [logline.NumOrigins]logline.Pos
	has    [logline.NumOrigins]bool
	last   int // origin of the entry returned last, or -1
	State  State
	// ahead lets the exec reader parse ahead on other cores during a long
	// read (pipeline.go). Set by owners that stop the merger — reset or
	// ReleaseBuffers — before they drop it.
	ahead bool
	// measure, when set, sizes the entries parsed ahead (Entry.sized),
	// whose bodies are then kept only for the sources in keep: an index
	// pass, which renders at most one view.
	measure func(*logline.Entry)
	keep    logline.SourceMask
}

// AllowAhead lets the merger parse exec.log ahead on other cores from its
// next reset on. The caller must call ReleaseBuffers (or reset) before it
// drops the merger: that stops the goroutines.
func (m *Merger) AllowAhead() { m.ahead, m.measure = true, nil }

// AllowAheadSized is AllowAhead for an index pass: the entries parsed
// ahead come sized by measure, with the bodies of the sources in keep only.
func (m *Merger) AllowAheadSized(keep logline.SourceMask, measure func(*logline.Entry)) {
	m.ahead, m.measure, m.keep = true, measure, keep
}

// ParsingAhead reports whether m's exec reader parses ahead on other
// cores now.
func (m *Merger) ParsingAhead() bool { return m.r[logline.OriginExec].ahead != nil }

// ErrMissedRotation ends a follower that fell so far behind that the file it
// was reading left the rotation chain.
var ErrMissedRotation = errors.New("missed rotation: the follower fell behind the exec.log retention window")

// ErrGeneration reports an exec position whose file is not in the chain.
type ErrGeneration struct{ pos logline.Pos }

func (e *ErrGeneration) Error() string {
	return fmt.Sprintf("exec position (inode %d, offset %d) is in none of exec.log, exec.log.1…%d, or beyond any file's size", e.pos.Gen, e.pos.Offset, ChainLen-1)
}

// Reset positions m at st over files for the stream of mask. A text origin
// whose file was replaced or truncated since st restarts from its start. An
// exec generation that is not in the chain returns *ErrGeneration.
func (m *Merger) Reset(files *FileSet, mask logline.SourceMask, st State) error {
	m.last = -1
	m.State = st
	for o := range logline.NumOrigins {
		m.has[o] = false
		m.active[o] = o == logline.OriginExec || mask.TextOrigins()
		if !m.active[o] {
			continue
		}
		r := &m.r[o]
		r.origin, r.mask = o, mask
		r.set = files
		fl := files.Origin(o)
		if o != logline.OriginExec && !TextPosValid(fl, st.Cursor[o]) {
			st.Cursor[o] = logline.Pos{}
			m.State.Cursor[o] = logline.Pos{}
		}
		if !r.start(fl, st.Cursor[o], st.Prev[o]) {
			return &ErrGeneration{pos: st.Cursor[o]}
		}
		r.mayAhead = m.ahead && o == logline.OriginExec && AheadNow().aheadWorkers() > 1
		r.measure, r.keep = m.measure, m.keep
		m.fill(o)
	}
	return nil
}

// TextPosValid reports whether p still points into the current text file.
func TextPosValid(files []FileRef, p logline.Pos) bool {
	if p.IsStart() {
		return true
	}
	return len(files) == 1 && files[0].Gen == p.Gen && files[0].Size >= 0 && p.Offset <= uint64(files[0].Size)
}

func (m *Merger) fill(o logline.Origin) {
	m.has[o] = m.r[o].next(&m.head[o], &m.end[o])
}

// Next returns the next entry of the merge, valid until the following call.
func (m *Merger) Next() (*logline.Entry, bool) {
	if m.last >= 0 {
		m.fill(logline.Origin(m.last))
	}
	best := -1
	for o := range logline.NumOrigins {
		if m.has[o] && (best < 0 || m.keyOf(o).Less(m.keyOf(logline.Origin(best)))) {
			best = int(o)
		}
	}
	m.last = best
	if best < 0 {
		return nil, false
	}
	e := &m.head[best]
	m.State.Cursor[best] = m.end[best]
	m.State.Prev[best] = e.Time
	return e, true
}

func (m *Merger) keyOf(o logline.Origin) Key { return Key{m.head[o].Time, o} }

// Drained returns the state after every complete line below the bounds has
// been consumed, skipped lines included. Call it after next returned false.
func (m *Merger) Drained() State {
	st := m.State
	for o := range logline.NumOrigins {
		if m.active[o] {
			st.Cursor[o] = m.r[o].pos()
			if o != logline.OriginExec {
				st.Prev[o] = m.r[o].prev
			}
		}
	}
	return st
}

// ReleaseBuffers returns the readers' buffers to their pools; the merger
// must be reset before its next use.
func (m *Merger) ReleaseBuffers() {
	for o := range logline.NumOrigins {
		m.r[o].stopAhead()
		m.r[o].scan.releaseBuffer()
		m.r[o].json.ReleaseBuffers()
		m.has[o] = false
	}
	m.last = -1
}

// Read returns the bytes of lines the origins scanned since reset.
func (m *Merger) Read() int64 {
	var n int64
	for o := range logline.NumOrigins {
		if m.active[o] {
			n += m.r[o].read
		}
	}
	return n
}

// Counts returns the skipped lines of every origin since reset.
func (m *Merger) Counts() Counts {
	var c Counts
	for o := range logline.NumOrigins {
		if m.active[o] {
			c.Add(m.r[o].counts)
		}
	}
	return c
}

// Err returns the first read error of any origin.
func (m *Merger) Err() error {
	for o := range logline.NumOrigins {
		if m.active[o] && m.r[o].scan.err != nil {
			return m.r[o].scan.err
		}
	}
	return nil
}
