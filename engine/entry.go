package engine

import (
	"fmt"
	"unicode/utf8"
)

// Source is the stream an entry was captured from.
type Source uint8

// The sources of SPEC §1. SourceSystem covers lifecycle markers of exec.log
// and every line of runtime.log and kernel.log.
const (
	SourceStdout Source = iota
	SourceStderr
	SourceOutput
	SourceSystem
	numSources
)

var sourceNames = [numSources]string{"stdout", "stderr", "output", "system"}

// String returns the source's name as exec.log spells it.
func (s Source) String() string {
	if s < numSources {
		return sourceNames[s]
	}
	return fmt.Sprintf("Source(%d)", uint8(s))
}

// ParseSource returns the Source named name.
func ParseSource(name string) (Source, bool) {
	switch name {
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
	ID     uint64
	Body   []byte
	utf8   bool      // Body is a decoded JSON string: valid UTF-8, and stats hold
	stats  bodyStats // when utf8: what the parser learnt of Body on the way
	// sized: an index pass's parse-ahead measured the entry's renderings
	// (sizes, by Format) on its own core, and kept the body only if the
	// pass renders the entry (a body it does not need is nil). Only an
	// index pass asks for it (merger.allowAhead with sized).
	sized bool
	sizes [numFormats]uint32
}

// size returns the length of e rendered in format f: measured already for
// a sized entry, else from its body and st, its body's stats.
func (e *Entry) size(f Format, st *bodyStats) int64 {
	if e.sized {
		return int64(e.sizes[f])
	}
	return sizeOf(f, e, st)
}

// rawLen returns the length of e's body, also when a sized entry's body
// was not kept.
func (e *Entry) rawLen() int64 {
	if e.sized {
		return int64(e.sizes[FormatRaw])
	}
	return int64(len(e.Body))
}

// bodyStats returns what the sizes of e's renderings depend on.
func (e *Entry) bodyStats() bodyStats {
	if e.utf8 {
		return e.stats
	}
	return measure(e.Body)
}

// validUTF8 reports whether e's body is valid UTF-8.
func (e *Entry) validUTF8() bool { return e.utf8 || utf8.Valid(e.Body) }
