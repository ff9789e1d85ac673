package engine

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// Query selects the entries a Scanner yields: the sources of Mask (merged
// as a view of them would be), of the sessions IDs if any are given, after
// From, with a time in [Since, Until] where those are set (the zero Time is
// unbounded).
type Query struct {
	Mask         SourceMask
	IDs          []uint64 // when not empty, only entries with one of these session ids
	From         State
	Since, Until Time
}

func (q Query) wants(e *Entry) bool {
	return q.Mask.Has(e.Source) && (len(q.IDs) == 0 || (e.HasID && slices.Contains(q.IDs, e.ID))) &&
		(q.Since.IsZero() || !e.Time.Less(q.Since)) && (q.Until.IsZero() || !q.Until.Less(e.Time))
}

// Scanner reads a query's entries from its position to the current end of
// the files, and again after every change when following. Between passes it
// holds the files it read last, so their inode numbers — the cursor's
// generations — cannot be reused meanwhile. Not safe for concurrent use.
type Scanner struct {
	sb   *Sandbox
	q    Query
	st   State
	last State // state after the last entry that passed the time filter
	held passFiles
	m    chain.Merger

	unhold func() // the sandbox is held until Close
}

// NewScanner returns a scanner positioned at q.From.
func (s *Sandbox) NewScanner(q Query) *Scanner {
	return &Scanner{sb: s, unhold: s.hold(), q: q, st: q.From, last: q.From}
}

// State returns the state after everything read so far.
func (sc *Scanner) State() State { return sc.st }

// LastState returns the state after the last entry inside the query's time
// range; with no Until it equals State.
func (sc *Scanner) LastState() State {
	if sc.q.Until.IsZero() {
		return sc.st
	}
	return sc.last
}

// Next calls fn for each wanted entry up to the current end of the files;
// after is the state once the entry is consumed (its cursor).
func (sc *Scanner) Next(fn func(e *Entry, after *State) error) error {
	st, ok, err := sc.held.reopen(sc.sb, &sc.m, sc.q.Mask, sc.st)
	sc.st = st
	if !ok {
		return err
	}
	for {
		e, ok := sc.m.Next()
		if !ok {
			break
		}
		sc.st = sc.m.State
		if !sc.q.wants(e) {
			if sc.q.Until.IsZero() || !sc.q.Until.Less(e.Time) {
				sc.last = sc.st
			}
			continue
		}
		sc.last = sc.st
		if err := fn(e, &sc.st); err != nil {
			return err
		}
	}
	sc.st = sc.m.Drained()
	if sc.q.Until.IsZero() {
		sc.last = sc.st
	}
	return sc.m.Err()
}

// Follow calls Next after every change of the sandbox until ctx is done
// (it then returns nil), the sandbox is removed (ErrRemoved) or the reader
// falls out of the retention window (ErrMissedRotation).
func (sc *Scanner) Follow(ctx context.Context, fn func(e *Entry, after *State) error, flush func() error) error {
	for {
		changed := sc.sb.Changed()
		if sc.sb.isRemoved() {
			return ErrRemoved
		}
		if err := sc.Next(fn); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// Close releases the files and the read buffers the scanner holds.
func (sc *Scanner) Close() {
	sc.m.ReleaseBuffers()
	sc.held.release()
	sc.unhold()
}

// Replay calls fn for the first n wanted entries after from, reading the
// files of the last pass again without moving the scanner: --tail keeps
// only the positions of the last entries of a pass, not their renderings.
func (sc *Scanner) Replay(from State, n int, fn func(e *Entry, after *State) error) error {
	if sc.held.files == nil || n <= 0 {
		return nil
	}
	var m chain.Merger
	defer m.ReleaseBuffers()
	if err := m.Reset(sc.held.files, sc.q.Mask, from); err != nil {
		return fmt.Errorf("sandbox %s: %w", sc.sb.name, err)
	}
	for n > 0 {
		e, ok := m.Next()
		if !ok {
			break
		}
		if !sc.q.wants(e) {
			continue
		}
		after := m.State
		if err := fn(e, &after); err != nil {
			return err
		}
		n--
	}
	return m.Err()
}

// Renderer renders entries as the views do. The zero value is ready to use.
type Renderer struct {
	r    render.Renderer
	part render.EntryPart
	buf  []byte
}

// Append appends e in format f; after is the state once e is consumed.
// The whole rendering is held in memory: Write bounds it.
func (r *Renderer) Append(dst []byte, f Format, e *Entry, after *State) []byte {
	return r.r.AppendEntry(dst, f, e, &after.Cursor)
}

// Write writes e in format f to w; after is the state once e is consumed.
// A long entry is rendered and written in pieces of bounded size.
func (r *Renderer) Write(w io.Writer, f Format, e *Entry, after *State) error {
	r.part.Begin(f, e, &after.Cursor)
	for !r.part.Done() {
		r.buf = r.r.AppendPiece(r.buf[:0], &r.part)
		if _, err := w.Write(r.buf); err != nil {
			return err
		}
	}
	return nil
}
