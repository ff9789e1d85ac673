package chain

import (
	"math"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// Counts tallies the lines a reader skipped: bad input is skipped and
// counted, never fatal (docs/formats.md, "Bad input").
type Counts struct {
	Malformed int // not valid JSON, unknown "s" or unparseable "t"
	TooLong   int // longer than MaxLineLen
	Empty     int
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Malformed += o.Malformed
	c.TooLong += o.TooLong
	c.Empty += o.Empty
}

// originReader yields the entries of one origin in file order, each with the
// position just past its line.
type originReader struct {
	origin logline.Origin
	scan   LineScanner
	json   logline.JSONParser
	prev   logline.Time // text: the timestamp the next unstamped line inherits
	birth  logline.Time // text: the file's birth time
	counts Counts
	read   int64              // bytes of lines scanned, skipped ones included
	mask   logline.SourceMask // exec: the sources yielded

	// exec: parse on other cores once a long read is under way
	// (pipeline.go). ahead is the running parse-ahead, owned by this
	// reader: stopped by start, stopAhead and at its end.
	mayAhead bool
	set      *FileSet // the files start was given, for ahead's own clone
	ahead    *parseAhead
	measure  func(*logline.Entry) // the parse-ahead sizes its entries with it (merger.measure)
	keep     logline.SourceMask   // whose bodies they keep
}

// start positions r at p within files. For exec, files is the chain, oldest
// first; for a text origin, the one file. prev is the inherited timestamp
// for text origins. ok is false if p's generation is not among files.
func (r *originReader) start(files []FileRef, p logline.Pos, prev logline.Time) bool {
	r.stopAhead() // and no parse-ahead until the merger allows it again
	r.json.Only = r.mask
	r.scan.TooLong = 0
	r.counts = Counts{}
	r.read = 0
	if len(files) > 0 {
		r.birth = files[0].Birth
	}
	if p.IsStart() {
		r.scan.Reset(files, 0, 0)
		r.prev = r.birth
		return true
	}
	for i, f := range files {
		if f.Gen == p.Gen && p.Offset <= math.MaxInt64 { // no file is larger
			r.scan.Reset(files, i, int64(p.Offset))
			r.prev = prev
			return true
		}
	}
	r.scan.Reset(nil, 0, 0)
	return false
}

// next reads the next entry into e and the position just past it into
// end; false at the end. It fills e in place (an Entry is over 80 bytes).
func (r *originReader) next(e *logline.Entry, end *logline.Pos) bool {
	if r.ahead != nil {
		return r.nextAhead(e, end)
	}
	if r.mayAhead && r.read >= AheadNow().After {
		r.mayAhead = false
		if r.startAhead() {
			return r.nextAhead(e, end)
		}
	}
	return r.nextLine(e, end)
}

// pos returns the position of the next unconsumed byte.
func (r *originReader) pos() logline.Pos {
	if r.ahead != nil {
		return r.ahead.pos
	}
	return r.scan.pos()
}

// nextLine reads the next entry that r's own scanner finds into e and
// the position after it into end; false at the end.
func (r *originReader) nextLine(e *logline.Entry, end *logline.Pos) bool {
	for {
		if r.origin == logline.OriginExec {
			if n, ok := r.json.ParseLineAt(r.scan.buffered(), e); ok {
				if after, ok := r.scan.take(n); ok {
					r.read += int64(n)
					if r.mask.Has(e.Source) {
						*end = after
						return true
					}
					continue
				}
			}
		}
		line, after, ok := r.scan.Next()
		r.read += int64(len(line))
		r.counts.TooLong += r.scan.TooLong
		r.scan.TooLong = 0
		if !ok {
			return false
		}
		if len(line) == 1 {
			r.counts.Empty++
			continue
		}
		if r.origin == logline.OriginExec {
			if r.execEntry(line[:len(line)-1], e) {
				*end = after
				return true
			}
			continue
		}
		*e, *end = r.textEntry(line), after
		return true
	}
}

// execEntry parses an exec.log line into e; false for a line skipped (bad,
// or of a source the reader does not yield).
func (r *originReader) execEntry(line []byte, e *logline.Entry) bool {
	if !r.json.ParseInto(line, e) {
		r.counts.Malformed++
		return false
	}
	return r.mask.Has(e.Source)
}

// textEntry parses a text line, given with its newline. The body is the
// stripped line's body, and keeps the newline (docs/formats.md, "Text lines").
func (r *originReader) textEntry(line []byte) logline.Entry {
	tl := logline.ParseTextLine(line[:len(line)-1])
	line[tl.N] = '\n' // stripping shortened the line: move its newline up
	if t, ok := tl.Time(r.birth); ok {
		r.prev = t
	}
	return logline.Entry{Time: r.prev, Source: logline.SourceSystem, Origin: r.origin, Body: line[tl.Body : tl.N+1]}
}

// FirstKey returns the key of the first entry of origin o of a stream of
// mask within files after p (prev: the time its next unstamped text line
// inherits). ok is false if p's generation is not in files; has is false
// when no entry follows p.
func FirstKey(files *FileSet, o logline.Origin, mask logline.SourceMask, p logline.Pos, prev logline.Time) (k Key, has, ok bool) {
	var r originReader
	defer r.scan.releaseBuffer()
	defer r.json.ReleaseBuffers()
	r.origin, r.mask = o, mask
	if !r.start(files.Origin(o), p, prev) {
		return Key{}, false, false
	}
	var e logline.Entry
	var end logline.Pos
	if !r.next(&e, &end) {
		return Key{}, false, true
	}
	return Key{e.Time, o}, true, true
}
