package engine

import (
	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// Reader reads a view sequentially from a state, in arrival order: each
// Read renders what exists between its position and the current end of the
// files, and at the end returns 0 bytes; a later Read returns what was
// appended since. It backs the seek file. Not safe for concurrent use.
type Reader struct {
	sb      *Sandbox
	unhold  func() // the sandbox is held until Close
	view    View
	st      State
	held    passFiles // between reads: their inodes stay ours
	m       chain.Merger
	r       render.Renderer
	pending []byte
	part    render.EntryPart // the entry whose rendering goes on after pending
}

// NewReader returns a reader of view v positioned at st.
func (s *Sandbox) NewReader(v View, st State) *Reader {
	return &Reader{sb: s, unhold: s.hold(), view: v, st: st}
}

// SetState repositions the reader; bytes not yet read are dropped.
func (r *Reader) SetState(st State) {
	r.st, r.held.wit = st, nil
	r.pending, r.part = r.pending[:0], render.EntryPart{}
}

// State returns the reader's position: the entries before it were returned
// whole or are pending in the last Read's leftovers.
func (r *Reader) State() State { return r.st }

// Close releases the files and the read buffers the reader holds.
func (r *Reader) Close() {
	r.m.ReleaseBuffers()
	r.part = render.EntryPart{} // it may point into the buffers
	r.held.release()
	r.unhold()
}

// Read fills p with rendered entries after the reader's position. It
// returns 0, nil at the current end.
func (r *Reader) Read(p []byte) (int, error) {
	if len(r.pending) == 0 {
		if err := r.render(len(p)); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[:copy(r.pending, r.pending[n:])]
	return n, nil
}

// render renders at least want bytes, or up to the end of the files, or
// the next piece of a long entry.
func (r *Reader) render(want int) error {
	if !r.part.Done() { // the merger still holds the entry: go on with it
		r.pending = r.r.AppendPiece(r.pending, &r.part)
		if len(r.pending) > 0 {
			return nil
		}
	}
	st, ok, err := r.held.reopen(r.sb, &r.m, r.view.Stream(), r.st)
	r.st = st
	if !ok {
		return err
	}
	for len(r.pending) < want {
		e, ok := r.m.Next()
		if !ok {
			r.st = r.m.Drained()
			return r.m.Err()
		}
		r.st = r.m.State
		if r.view.Includes(e) {
			r.part.Begin(r.view.Format, e, &r.m.State.Cursor)
			r.pending = r.r.AppendPiece(r.pending, &r.part)
			if !r.part.Done() {
				return nil
			}
		}
	}
	return r.m.Err()
}
