package render

import (
	"encoding/base64"

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
	st, decoded := e.Decoded()
	if !decoded {
		st = logline.Measure(e.Body)
	}
	e.SetSizes([logline.NumFormats]uint32{
		logline.FormatRaw:  uint32(e.BodyLen()),
		logline.FormatText: uint32(textLen(e, &st)),
		logline.FormatJSON: uint32(jsonLen(e, &st)),
	})
}

// SizeOf returns the length of e rendered in format f, given its stats.
func SizeOf(f logline.Format, e *logline.Entry, st *logline.BodyStats) int64 {
	switch f {
	case logline.FormatRaw:
		return int64(e.BodyLen())
	case logline.FormatText:
		return textLen(e, st)
	}
	return jsonLen(e, st)
}

// textLen returns the length of e's text rendering, given its stats.
func textLen(e *logline.Entry, st *logline.BodyStats) int64 {
	if !plainText(e, st) {
		return textSize(e)
	}
	return textSizeOf(e.Source, e.BodyLen(), st.Newlines, e.BodyLast())
}

// jsonLen returns the length of e's JSON Lines rendering, given its stats.
func jsonLen(e *logline.Entry, st *logline.BodyStats) int64 {
	n := jsonFixed + int64(len(logline.SourceNames[e.Source])) + int64(logline.CursorLen)
	if !st.High || e.ValidUTF8() {
		n += int64(e.BodyLen() + st.JSONExtra)
	} else {
		n += int64(base64.StdEncoding.EncodedLen(len(e.Body)) + len(`,"e":"b64"`))
	}
	if e.HasID {
		n += int64(len(`,"id":`) + decimalLen(e.ID))
	}
	return n
}

// decimalLen returns the number of decimal digits of v.
func decimalLen(v uint64) int {
	n := 1
	for ; v >= 10; v /= 10 {
		n++
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
