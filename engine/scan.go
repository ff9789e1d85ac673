package engine

import (
	"context"
	"fmt"
)

// Query selects the entries a Scanner yields: the sources of Mask (merged
// as a view of them would be), after From, with a time in [Since, Until]
// where those are set (Unix ns; 0 is unbounded).
type Query struct {
	Mask         SourceMask
	From         State
	Since, Until int64
}

func (q Query) wants(e *Entry) bool {
	return q.Mask.Has(e.Source) && (q.Since == 0 || e.Time >= q.Since) && (q.Until == 0 || e.Time <= q.Until)
}

// Scanner reads a query's entries from its position to the current end of
// the files, and again after every change when following. Between passes it
// holds the files it read last, so their inode numbers — the cursor's
// generations — cannot be reused meanwhile. Not safe for concurrent use.
type Scanner struct {
	sb    *Sandbox
	q     Query
	st    State
	last  State // state after the last entry that passed the time filter
	files *fileSet
	m     merger

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
	if sc.q.Until == 0 {
		return sc.st
	}
	return sc.last
}

// Next calls fn for each wanted entry up to the current end of the files;
// after is the state once the entry is consumed (its cursor).
func (sc *Scanner) Next(fn func(e *Entry, after *State) error) error {
	files, err := openFileSet(sc.sb.table)
	if err != nil {
		return fmt.Errorf("sandbox %s: %w", sc.sb.name, err)
	}
	sc.files.release()
	sc.files = files
	if err := sc.m.reset(files, sc.q.Mask, sc.st); err != nil {
		return sc.sb.lostPosition(fmt.Errorf("%w: %v", ErrMissedRotation, err), len(files.chain))
	}
	for {
		e, ok := sc.m.next()
		if !ok {
			break
		}
		sc.st = sc.m.state
		if !sc.q.wants(e) {
			if sc.q.Until == 0 || e.Time <= sc.q.Until {
				sc.last = sc.st
			}
			continue
		}
		sc.last = sc.st
		if err := fn(e, &sc.st); err != nil {
			return err
		}
	}
	sc.st = sc.m.drained()
	if sc.q.Until == 0 {
		sc.last = sc.st
	}
	return sc.m.err()
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

// Close releases the files the scanner holds.
func (sc *Scanner) Close() {
	sc.files.release()
	sc.files = nil
	sc.unhold()
}

// Renderer renders entries as the views do. The zero value is ready to use.
type Renderer struct{ r renderer }

// Append appends e in format f; after is the state once e is consumed.
func (r *Renderer) Append(dst []byte, f Format, e *Entry, after *State) []byte {
	return r.r.appendEntry(dst, f, e, &after.Cursor)
}
