package engine

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// StateAt turns a cursor into a state to resume from, against the files as
// they are now. An exec position that is in none of the chain's files (a
// cursor of another sandbox), past the end of its file or inside a line of
// it makes the cursor invalid. A text position whose file was replaced,
// truncated or rewritten (its offset is past the end or inside a line)
// resumes from that file's start; a valid one gets the timestamp its next
// unstamped line inherits.
func (s *Sandbox) StateAt(c Cursor) (State, error) {
	files, err := chain.OpenFileSet(s.table)
	if err != nil {
		return State{}, fmt.Errorf("sandbox %s: %w", s.name, err)
	}
	defer files.Release()
	return stateAt(files, c)
}

func stateAt(files *chain.FileSet, c Cursor) (State, error) {
	st := State{Cursor: c}
	if err := checkExecPos(files.Chain, c[logline.OriginExec]); err != nil {
		return State{}, err
	}
	for o := logline.OriginRuntime; o < logline.NumOrigins; o++ {
		fl := files.Origin(o)
		if c[o].IsStart() || !chain.TextPosValid(fl, c[o]) {
			st.Cursor[o] = logline.Pos{}
			continue
		}
		at, err := atLineStart(fl[0], c[o].Offset)
		if err != nil {
			return State{}, err
		}
		if !at { // the file was rewritten since: read it from its start
			st.Cursor[o] = logline.Pos{}
			continue
		}
		st.Prev[o] = inheritedTime(fl[0], c[o].Offset)
	}
	return st, nil
}

// checkExecPos checks an exec position of a cursor against the chain: its
// file must be in it, and its offset at the start of a line of that file,
// or at the end of a rotated file (whose last line needs no newline).
func checkExecPos(files []chain.FileRef, p logline.Pos) error {
	if p.IsStart() {
		return nil
	}
	i := slices.IndexFunc(files, func(f chain.FileRef) bool { return f.Gen == p.Gen })
	if i < 0 {
		return fmt.Errorf("%w: exec.log generation %d is not in this sandbox's rotation chain (a cursor of another sandbox, or older than exec.log.%d)",
			ErrInvalidCursor, p.Gen, ChainLen-1)
	}
	f := files[i]
	name := filepath.Base(f.File.Name())
	if p.Offset > uint64(f.Size) {
		return fmt.Errorf("%w: exec offset %d is past the end of %s (%d bytes)", ErrInvalidCursor, p.Offset, name, f.Size)
	}
	if p.Offset == uint64(f.Size) && i < len(files)-1 {
		return nil
	}
	at, err := atLineStart(f, p.Offset)
	if err != nil {
		return err
	}
	if !at {
		return fmt.Errorf("%w: exec offset %d is inside a line of %s", ErrInvalidCursor, p.Offset, name)
	}
	return nil
}

// atLineStart reports whether off, at most f's size, is the start of a
// line of f: 0, or just past a newline.
func atLineStart(f chain.FileRef, off uint64) (bool, error) {
	if off == 0 {
		return true, nil
	}
	if off > uint64(f.Size) {
		return false, nil
	}
	var b [1]byte
	if _, err := f.File.ReadAt(b[:], int64(off)-1); err != nil {
		if err == io.EOF { // the file shrank since it was measured
			return false, nil
		}
		return false, fmt.Errorf("check a cursor against %s: %w", f.File.Name(), err)
	}
	return b[0] == '\n', nil
}

// inheritedTime returns the timestamp that a line at off of a text file
// inherits: that of the nearest stamped line before off (docs/formats.md, "Text lines"),
// else the file's birth time. It reads the file backwards.
func inheritedTime(f chain.FileRef, off uint64) Time {
	end := int64(min(off, uint64(max(f.Size, 0))))
	block := int64(logline.ReadChunk)
	for end > 0 {
		start := max(0, end-block)
		buf := make([]byte, end-start)
		if _, err := f.File.ReadAt(buf, start); err != nil {
			return f.Birth
		}
		data := bytes.TrimSuffix(buf, []byte{'\n'}) // the newline ending the last line
		first := 0
		if start > 0 {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 && block < logline.MaxLineLen+2 { // one line longer than the block
				block = min(2*block, logline.MaxLineLen+2) // room for a whole line and both newlines
				continue
			}
			if nl < 0 { // longer than MaxLineLen: skipped, so it stamps nothing
				if end = prevNewline(f, start) + 1; end <= 0 {
					return f.Birth
				}
				block = logline.ReadChunk
				continue
			}
			first = nl + 1
		}
		lines := bytes.Split(data[first:], []byte{'\n'})
		for i := len(lines) - 1; i >= 0; i-- {
			if len(lines[i]) == 0 {
				continue
			}
			if t, ok := logline.ParseTextLine(lines[i]).Time(f.Birth); ok {
				return t
			}
		}
		end = start + int64(first)
		block = logline.ReadChunk
	}
	return f.Birth
}

// prevNewline returns the offset of the last newline of f before before, or
// -1, reading backwards in small probes.
func prevNewline(f chain.FileRef, before int64) int64 {
	var probe [logline.ReadChunk]byte
	for before > 0 {
		start := max(0, before-logline.ReadChunk)
		n, err := f.File.ReadAt(probe[:before-start], start)
		if i := bytes.LastIndexByte(probe[:n], '\n'); i >= 0 {
			return start + int64(i)
		}
		if err != nil {
			return -1
		}
		before = start
	}
	return -1
}

// StateAtTime returns the state just before the first merged entry whose
// time is at or after t (or the end, if there is none).
func (s *Sandbox) StateAtTime(t Time) (State, error) {
	var start State
	var files *chain.FileSet
	err := s.withIndex(ViewMerged, false, func(x *index.Index, shown *chain.FileSet) {
		// RunMax only grows: the entry is after the last checkpoint whose
		// prefix stays below t.
		i := sort.Search(len(x.Cps), func(i int) bool { return !x.Cps[i].RunMax.Time.Less(t) }) - 1
		start, files = x.Cps[max(i, 0)].State, shown.Clone()
	})
	if err != nil {
		return State{}, err
	}
	defer files.Release()

	var m chain.Merger
	defer m.ReleaseBuffers()
	if err := m.Reset(files, MaskAll, start); err != nil {
		return State{}, err
	}
	for {
		before := m.State
		e, ok := m.Next()
		if !ok {
			return m.Drained(), m.Err()
		}
		if !e.Time.Less(t) {
			return before, nil
		}
	}
}
