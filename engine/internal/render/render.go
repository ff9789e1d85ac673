package render

import (
	"encoding/base64"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// Renderer appends entries in one format. The zero value is ready to use.
type Renderer struct {
	tf logline.TimeFormatter
}

// AppendEntry appends e rendered in format f; c is e's cursor (JSON only).
func (r *Renderer) AppendEntry(dst []byte, f logline.Format, e *logline.Entry, c *logline.Cursor) []byte {
	switch f {
	case logline.FormatRaw:
		return append(dst, e.Body...)
	case logline.FormatText:
		return r.appendText(dst, e)
	}
	return r.appendJSON(dst, e, c)
}

func (r *Renderer) appendJSON(dst []byte, e *logline.Entry, c *logline.Cursor) []byte {
	dst = r.appendJSONHead(dst, e)
	b64 := !e.ValidUTF8()
	if b64 {
		dst = base64.StdEncoding.AppendEncode(dst, e.Body)
	} else {
		dst = appendJSONString(dst, e.Body)
	}
	return appendJSONTail(dst, e, b64, c)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends the contents of a JSON string holding s, which
// must be valid UTF-8.
func appendJSONString(dst, s []byte) []byte {
	for {
		i, _ := logline.SpecialIndex(s)
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		s = s[i+1:]
	}
}

// EntrySize returns the length of e rendered in format f, without
// rendering it.
func EntrySize(f logline.Format, e *logline.Entry) int64 {
	st := logline.Measure(e.Body)
	return SizeOf(f, e, &st)
}

var jsonFixed = int64(len(`{"t":"","s":"","d":"","cursor":""}`+"\n") + logline.TimeLen)
