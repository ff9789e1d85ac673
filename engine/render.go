package engine

import (
	"bytes"
	"encoding/base64"
)

// Format is how a view's entries become bytes (SPEC §3).
type Format uint8

const (
	// FormatRaw concatenates the bodies: the program's bytes as written.
	FormatRaw Format = iota
	// FormatText writes "<TIME> <SOURCE> <piece>\n" for each line of a
	// body, ANSI escapes stripped.
	FormatText
	// FormatJSON writes one JSON object per entry, with its cursor.
	FormatJSON
)

// renderer appends entries in one format. The zero value is ready to use.
type renderer struct {
	tf  timeFormatter
	tmp []byte
}

// appendEntry appends e rendered in format f; c is e's cursor (JSON only).
func (r *renderer) appendEntry(dst []byte, f Format, e *Entry, c *Cursor) []byte {
	switch f {
	case FormatRaw:
		return append(dst, e.Body...)
	case FormatText:
		return r.appendText(dst, e)
	}
	return r.appendJSON(dst, e, c)
}

func (r *renderer) appendText(dst []byte, e *Entry) []byte {
	body := e.Body
	if bytes.IndexByte(body, esc) >= 0 {
		r.tmp = appendStripped(r.tmp[:0], body)
		body = r.tmp
	}
	for {
		dst = r.appendTextPrefix(dst, e)
		nl := bytes.IndexByte(body, '\n')
		if nl < 0 {
			dst = append(dst, body...)
			return append(dst, '\n')
		}
		dst = append(dst, body[:nl+1]...)
		body = body[nl+1:]
		if len(body) == 0 {
			return dst
		}
	}
}

func (r *renderer) appendJSON(dst []byte, e *Entry, c *Cursor) []byte {
	dst = r.appendJSONHead(dst, e)
	b64 := !e.validUTF8()
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
		i, _ := specialIndex(s)
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

// entrySize returns the length of e rendered in format f, without
// rendering it.
func entrySize(f Format, e *Entry) int64 {
	st := measure(e.Body)
	return sizeOf(f, e, &st)
}

// textSize is len(appendText(e)): every piece costs the prefix and a
// newline, and the newlines of the stripped body end pieces.
func textSize(e *Entry) int64 {
	n, newlines, last := strippedStats(e.Body)
	return textSizeOf(e.Source, n, newlines, last)
}

// strippedStats returns the length, newline count and last byte of body
// with its ANSI escapes stripped.
func strippedStats(body []byte) (n, newlines int, last byte) {
	for len(body) > 0 {
		i := bytes.IndexByte(body, esc)
		seg := body
		if i >= 0 {
			seg = body[:i]
			body = body[skipEscape(body, i):]
		} else {
			body = nil
		}
		if len(seg) > 0 {
			n += len(seg)
			newlines += bytes.Count(seg, []byte{'\n'})
			last = seg[len(seg)-1]
		}
	}
	return n, newlines, last
}

var jsonFixed = int64(len(`{"t":"","s":"","d":"","cursor":""}`+"\n") + TimeLen)
