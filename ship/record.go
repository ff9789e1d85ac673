// Package ship sends every entry of a microsandbox home's sandboxes to a
// log store, with no gap across restarts and rotations: one follower per
// sandbox reads its merged view from a checkpoint (package checkpoint),
// cuts it into batches bounded by count and bytes, hands each batch to a
// Sender (packages otlp and syslog) and moves the checkpoint once the
// batch is acknowledged.
//
// Memory is bounded by the reader slots, not by the number of sandboxes:
// at most Config.Readers sandboxes are read and sent at once, each in a
// slot that owns two batches (one sent while the other is filled), so
// the records held are at most Readers × 2 × BatchBytes (plus, for an
// entry longer than a batch, that entry, up to engine.MaxLineLen), and
// the requests encoded from them. An idle sandbox holds no batch.
//
// The engine does the reading (engine.Scanner, cursors); the senders do
// the wire formats. Nothing here parses log files or speaks a protocol.
package ship

import (
	"bytes"

	"github.com/microsandbox/msb-logfs/engine"
)

// Severity is a record's level, numbered as OpenTelemetry's
// SeverityNumber (INFO 9, WARN 13, ERROR 17...).
type Severity uint8

// The severities ship gives.
const (
	SeverityTrace Severity = 1
	SeverityDebug Severity = 5
	SeverityInfo  Severity = 9
	SeverityWarn  Severity = 13
	SeverityError Severity = 17
	SeverityFatal Severity = 21
)

// String returns the severity's text, as OpenTelemetry's SeverityText.
func (s Severity) String() string {
	switch {
	case s >= SeverityFatal:
		return "FATAL"
	case s >= SeverityError:
		return "ERROR"
	case s >= SeverityWarn:
		return "WARN"
	case s >= SeverityInfo:
		return "INFO"
	case s >= SeverityDebug:
		return "DEBUG"
	}
	return "TRACE"
}

// Record is one entry of a sandbox's merged view, as shipped.
type Record struct {
	Time     engine.Time
	Source   string // stdout, stderr, output, system (exec), runtime, kernel
	Severity Severity
	HasID    bool
	ID       uint64 // the session id, when HasID
	Cursor   string // the cursor after this entry: a receiver's key for duplicates
	Body     []byte // the entry's text without one trailing newline; aliases the batch
}

// Batch is the records of one sandbox that are sent and acknowledged
// together. Its buffers are reused from batch to batch (of any sandbox).
type Batch struct {
	Sandbox string
	Records []Record
	buf     []byte // the bodies, back to back
	ends    []int  // where each record's body ends in buf
}

// Bytes returns the size of the batch's bodies and cursors.
func (b *Batch) Bytes() int { return len(b.buf) + len(b.Records)*engine.CursorLen }

// Len returns the number of records.
func (b *Batch) Len() int { return len(b.Records) }

// release drops b's buffers once an entry longer than a batch grew them
// past twice maxBytes (the next batch allocates them anew), and the
// records' references to the last batch's cursors.
func (b *Batch) release(maxBytes int) {
	if cap(b.buf) > 2*maxBytes {
		b.buf = nil
	}
	clear(b.Records[:cap(b.Records)])
}

// reset empties b for sandbox name.
func (b *Batch) reset(name string) {
	b.Sandbox = name
	b.Records = b.Records[:0]
	b.buf = b.buf[:0]
	b.ends = b.ends[:0]
}

// add appends e, whose cursor is after's, as a record. Its body is set by
// seal, once the buffer no longer moves.
func (b *Batch) add(e *engine.Entry, after *engine.State) {
	b.buf = append(b.buf, bytes.TrimSuffix(e.Body, []byte{'\n'})...)
	b.ends = append(b.ends, len(b.buf))
	b.Records = append(b.Records, Record{
		Time: e.Time, Source: sourceName(e), Severity: severityOf(e),
		HasID: e.HasID, ID: e.ID, Cursor: after.Cursor.String(),
	})
}

// part returns records i to j of a sealed b as a batch to send: it shares
// b's records, and its Bytes does not count their bodies.
func (b *Batch) part(i, j int) *Batch {
	return &Batch{Sandbox: b.Sandbox, Records: b.Records[i:j:j]}
}

// seal points every record's Body at its bytes.
func (b *Batch) seal() {
	start := 0
	for i, end := range b.ends {
		b.Records[i].Body = b.buf[start:end:end]
		start = end
	}
}

// sourceName names where e comes from: its exec stream, or its text log.
func sourceName(e *engine.Entry) string {
	if e.Origin == engine.OriginExec {
		return e.Source.String()
	}
	return e.Origin.String()
}

// severityOf gives stderr ERROR and the other exec streams INFO (as
// Docker's journald driver does), a runtime line the level it starts
// with (INFO, WARN...), and a kernel line INFO.
func severityOf(e *engine.Entry) Severity {
	switch {
	case e.Origin == engine.OriginRuntime:
		return levelOf(e.Body)
	case e.Origin == engine.OriginExec && e.Source == engine.SourceStderr:
		return SeverityError
	}
	return SeverityInfo
}

// levels maps the first word of a runtime line to its severity.
var levels = map[string]Severity{
	"TRACE": SeverityTrace, "DEBUG": SeverityDebug, "INFO": SeverityInfo,
	"WARN": SeverityWarn, "WARNING": SeverityWarn, "ERROR": SeverityError,
	"FATAL": SeverityFatal, "CRITICAL": SeverityFatal, "PANIC": SeverityFatal,
}

// levelOf returns the level a runtime line starts with (any case, with
// or without brackets or a colon), INFO when it starts with none.
func levelOf(body []byte) Severity {
	word := body
	if i := bytes.IndexAny(word, " \t"); i >= 0 {
		word = word[:i]
	}
	word = bytes.Trim(word, "[]:")
	if len(word) > len("CRITICAL") {
		return SeverityInfo
	}
	var up [8]byte
	n := copy(up[:], word)
	if sev, ok := levels[string(bytes.ToUpper(up[:n]))]; ok {
		return sev
	}
	return SeverityInfo
}
