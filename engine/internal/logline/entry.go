package logline

import (
	"fmt"
	"unicode/utf8"
)

// Source is the stream an entry was captured from.
type Source uint8

// The sources of exec.log lines (docs/formats.md). SourceSystem covers lifecycle markers of exec.log
// and every line of runtime.log and kernel.log.
const (
	SourceStdout Source = iota
	SourceStderr
	SourceOutput
	SourceSystem
	NumSources
)

var SourceNames = [NumSources]string{"stdout", "stderr", "output", "system"}

// String returns the source's name as exec.log spells it.
func (s Source) String() string {
	if s < NumSources {
		return SourceNames[s]
	}
	return fmt.Sprintf("Source(%d)", uint8(s))
}

// ParseSource returns the Source named name.
func ParseSource(name string) (Source, bool) { return sourceNamed(name) }

// sourceNamed returns the Source named name, given as a string or as
// bytes (the parser's, of which it makes no string).
func sourceNamed[T string | []byte](name T) (Source, bool) {
	switch string(name) {
	case "stdout":
		return SourceStdout, true
	case "stderr":
		return SourceStderr, true
	case "output":
		return SourceOutput, true
	case "system":
		return SourceSystem, true
	}
	return 0, false
}

// SourceMask is a set of sources.
type SourceMask uint8

// Common source sets.
const (
	MaskAll     SourceMask = 1<<NumSources - 1
	MaskDefault SourceMask = 1<<SourceStdout | 1<<SourceStderr | 1<<SourceOutput
)

// Has reports whether s is in m.
func (m SourceMask) Has(s Source) bool { return m&(1<<s) != 0 }

// TextOrigins reports whether a stream of m reads runtime.log and kernel.log.
func (m SourceMask) TextOrigins() bool { return m.Has(SourceSystem) }

// Origin is one of the three files (or file chains) a sandbox logs to.
type Origin uint8

// Origins in their fixed order: ties in the merge keep this order, and a
// cursor holds one position per origin in this order.
const (
	OriginExec Origin = iota
	OriginRuntime
	OriginKernel
	NumOrigins
)

var originNames = [NumOrigins]string{"exec", "runtime", "kernel"}

// String returns the origin's name.
func (o Origin) String() string {
	if o < NumOrigins {
		return originNames[o]
	}
	return fmt.Sprintf("Origin(%d)", uint8(o))
}

// Entry is one parsed log record: an exec.log chunk or a text-log line.
// Body aliases a buffer of the reader that produced it and is valid only
// until the reader's next call.
type Entry struct {
	Time   Time
	Source Source
	Origin Origin
	HasID  bool
	utf8   bool // Body is a decoded JSON string: valid UTF-8, and stats hold
	// sized: the entry's renderings were measured (sizes, by Format) where
	// it was parsed, and its body kept only if its reader renders it (a
	// body it does not need is nil). Only an index pass asks for it.
	sized bool
	// unread: the parser measured the body without decoding it (a body a
	// pass only sizes, JSONParser.Measured, whose text rendering is its
	// lines as they are): Body is nil, and the body's length and last byte
	// are bodyLen and bodyLast.
	unread   bool
	bodyLast byte
	ID       uint64
	Body     []byte
	stats    BodyStats // when utf8: what the parser learnt of Body on the way
	sizes    [NumFormats]uint32
	bodyLen  uint32 // a body is at most MaxLineLen long
}

// BodyLen returns the length of e's body, also of an unread one.
func (e *Entry) BodyLen() int {
	if e.unread {
		return int(e.bodyLen)
	}
	return len(e.Body)
}

// BodyLast returns the last byte of e's body (0 if it is empty), also of
// an unread one.
func (e *Entry) BodyLast() byte {
	if e.unread {
		return e.bodyLast
	}
	if len(e.Body) == 0 {
		return 0
	}
	return e.Body[len(e.Body)-1]
}

// MeasuredSize returns the length of e rendered in format f, when e is
// sized.
func (e *Entry) MeasuredSize(f Format) (int64, bool) {
	return int64(e.sizes[f]), e.sized
}

// SetSizes records the lengths of e's renderings, by format, and marks it
// sized.
func (e *Entry) SetSizes(sizes [NumFormats]uint32) { e.sizes, e.sized = sizes, true }

// Decoded returns what the parser learnt of e's body while decoding it,
// and whether it decoded it (the body is then valid UTF-8).
func (e *Entry) Decoded() (BodyStats, bool) { return e.stats, e.utf8 }

// SetDecoded records that e's body is a decoded JSON string, valid UTF-8,
// with stats st.
func (e *Entry) SetDecoded(st BodyStats) { e.stats, e.utf8 = st, true }

// RawLen returns the length of e's body, also when a sized entry's body
// was not kept.
func (e *Entry) RawLen() int64 {
	if e.sized {
		return int64(e.sizes[FormatRaw])
	}
	return int64(len(e.Body))
}

// BodyStats returns what the sizes of e's renderings depend on.
func (e *Entry) BodyStats() BodyStats {
	if e.utf8 {
		return e.stats
	}
	return Measure(e.Body)
}

// ValidUTF8 reports whether e's body is valid UTF-8.
func (e *Entry) ValidUTF8() bool { return e.utf8 || utf8.Valid(e.Body) }
