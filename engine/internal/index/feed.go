package index

import (
	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// feed is where a segment's entries come from: its record, from any
// state at an entry boundary of the record, else the merge of its files.
// A replay parses nothing, so it reads no bytes and skips no lines.
type feed struct {
	m      chain.Merger
	slot   *recordSlot // the record of the files, shared; nil: always merge
	replay bool
	rec    *Record       // replay: the slot's record
	next   int           // replay: the entry Next returns
	st     chain.State   // replay: the state after the entries returned
	cur    logline.Entry // replay: a copy of the entry returned last (the record is shared)
}

// reset positions f at st: in its record if st is at one of its entry
// boundaries, else in a merge of files for stream.
func (f *feed) reset(files *chain.FileSet, stream logline.SourceMask, st chain.State) error {
	if rec := f.slot.get(files); rec != nil {
		if i, ok := rec.find(&st); ok {
			f.m.ReleaseBuffers()
			f.m = chain.Merger{} // its counts start again, as at a reset
			f.rec, f.replay, f.next, f.st = rec, true, i, st
			return nil
		}
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
	f.m, f.replay, f.rec = chain.Merger{}, false, nil
}

// replayAll positions f at the start of rec.
func (f *feed) replayAll(rec *Record) {
	f.rec, f.replay, f.next, f.st = rec, true, 0, rec.start
}

// ParsingAhead reports whether the merge parses ahead now.
func (f *feed) ParsingAhead() bool { return !f.replay && f.m.ParsingAhead() }
