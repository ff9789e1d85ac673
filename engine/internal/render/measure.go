package render

import (
	"encoding/base64"
	"strconv"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// SizeIn returns the length of e rendered in format f: measured already
// for a sized entry, else from its body and st, its body's stats.
func SizeIn(f logline.Format, e *logline.Entry, st *logline.BodyStats) int64 {
	if n, ok := e.MeasuredSize(f); ok {
		return n
	}
	return SizeOf(f, e, st)
}

// MeasureSizes measures e's renderings in every format and marks e sized.
// A body is at most MaxLineLen bytes, and each of its bytes renders to at
// most 6 (a JSON \u00XX) or one text line (with a prefix of TimeLen + 8),
// so every size fits in 32 bits.
func MeasureSizes(e *logline.Entry) {
	st := e.BodyStats()
	var sizes [logline.NumFormats]uint32
	for f := range logline.Format(logline.NumFormats) {
		sizes[f] = uint32(SizeOf(f, e, &st))
	}
	e.SetSizes(sizes)
}

// SizeOf returns the length of e rendered in format f, given its stats.
func SizeOf(f logline.Format, e *logline.Entry, st *logline.BodyStats) int64 {
	switch f {
	case logline.FormatRaw:
		return int64(len(e.Body))
	case logline.FormatText:
		if !plainText(e, st) {
			return textSize(e)
		}
		var last byte
		if len(e.Body) > 0 {
			last = e.Body[len(e.Body)-1]
		}
		return textSizeOf(e.Source, len(e.Body), st.Newlines, last)
	}
	n := jsonFixed + int64(len(logline.SourceNames[e.Source])) + int64(logline.CursorLen)
	if !st.High || e.ValidUTF8() {
		n += int64(len(e.Body) + st.JSONExtra)
	} else {
		n += int64(base64.StdEncoding.EncodedLen(len(e.Body)) + len(`,"e":"b64"`))
	}
	if e.HasID {
		var digits [20]byte
		n += int64(len(`,"id":`) + len(strconv.AppendUint(digits[:0], e.ID, 10)))
	}
	return n
}

// textSizeOf is the size of a text rendering of a stripped body of n bytes
// with the given newline count and last byte.
func textSizeOf(src logline.Source, n, newlines int, last byte) int64 {
	pieces := newlines
	if n == 0 || last != '\n' {
		pieces++
	}
	prefix := int64(logline.TimeLen + 1 + len(logline.SourceNames[src]) + 1)
	return int64(pieces)*(prefix+1) + int64(n-newlines)
}
