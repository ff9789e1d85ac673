package logline

// The JSON value scanners of the exec line parser: strings (validated,
// plain, raw or decoded), numbers, literals and nested values.

import (
	"bytes"
	"unicode/utf8"
)

// skipString validates the JSON string at b[i] as decodeString would
// decode it, without decoding it, and returns the index past it.
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for pos := i + 1; ; {
		k, _ := SpecialIndex(b[pos:])
		if k < 0 {
			return len(b), false
		}
		end := pos + k
		if c := b[end]; c == '"' {
			return end + 1, true
		} else if c < 0x20 || end+1 >= len(b) {
			return end, false
		}
		switch b[end+1] { // after a backslash: what unescape accepts
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			pos = end + 2
		case 'u':
			if _, ok := hex4(b, end+2); !ok {
				return end, false
			}
			pos = end + 6
		default:
			return end, false
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// plainString returns the bytes of the JSON string at b[i] up to the next
// quote, unchecked, and the index past that quote. It is for the t and s
// values of the canonical layout only: their parsers (the time's, and
// sourceNamed) accept no backslash, quote or control byte, so a value that
// is not a plain string fails there and parseAny parses the line in full.
// The value usually has the length guess (what microsandbox writes): a
// quote just after that many bytes ends it without a search (a quote
// before it would fail those parsers too).
func plainString(b []byte, i, guess int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	if end := i + 1 + guess; end < len(b) && b[end] == '"' {
		return b[i+1 : end], end + 1, true
	}
	n := bytes.IndexByte(b[i+1:], '"')
	if n < 0 {
		return nil, len(b), false
	}
	return b[i+1 : i+1+n], i + 2 + n, true
}

// rawString returns the bytes of a JSON string that needs no unescaping
// (keys and the t, s, e values); other strings go through decodeString.
func rawString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ { // short strings: a loop beats a call
		if c := b[j]; c == '"' {
			return b[i+1 : j], j + 1, true
		} else if c == '\\' || c < 0x20 {
			break
		}
	}
	var rare JSONParser // escaped keys and values are rare: keep p.scratch for d
	return rare.decodeString(b, i)
}

// decodeString decodes the JSON string at b[i]. Invalid UTF-8 becomes U+FFFD.
// The result aliases b when no unescaping was needed. One pass of
// SpecialIndex (32 bytes at a time with AVX2, else 8) finds the end of each
// run — the closing quote, a backslash or a control character — and
// whether the run is all ASCII, so each byte is looked at about once
// before it is copied.
func (p *JSONParser) decodeString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	pos := i + 1
	out := p.scratch[:0]
	p.stats = BodyStats{}
	for {
		k, ascii := SpecialIndex(b[pos:])
		if k < 0 {
			return nil, len(b), false
		}
		end := pos + k
		c := b[end]
		if c < 0x20 {
			return nil, end, false
		}
		run := b[pos:end]
		p.stats.High = p.stats.High || !ascii // runs hold no quote, backslash or control
		if c == '"' && pos == i+1 && (ascii || utf8.Valid(run)) {
			return run, end + 1, true // no escape at all: alias b
		}
		if need := len(out) + len(run); need > cap(out) && need > ReadChunk {
			out = p.growScratch(out, len(run))
		}
		if ascii {
			out = append(out, run...)
		} else {
			out = appendValid(out, run)
		}
		if c == '"' {
			p.scratch = out
			return out, end + 1, true
		}
		var ok bool
		before := len(out)
		if out, pos, ok = unescape(out, b, end); !ok {
			return nil, pos, false
		}
		p.stats.addEscaped(b[end+1], out[before:])
		if pos < len(b) && b[pos] == '"' { // the escape ended the string, as "…\n" does
			p.scratch = out
			return out, pos + 1, true
		}
	}
}

// measureString scans the JSON string at b[i] as decodeString decodes
// it, and returns the index past it and whether it is valid, as
// decodeString does, but writes nothing out: it sets e's body length, last
// byte and p.stats, e.Body stays nil and e is marked unread. A body whose
// text rendering is not its lines as they are (an escape for ESC or
// another control byte, DEL, invalid UTF-8: the text view escapes,
// strips or replaces those, and measuring that takes the bytes) is decoded
// into e.Body instead.
func (p *JSONParser) measureString(b []byte, i int, e *Entry) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	p.stats = BodyStats{}
	var n int
	var last byte
	var esc [utf8.UTFMax]byte
	for pos := i + 1; ; {
		k, ascii := SpecialIndex(b[pos:])
		if k < 0 {
			return len(b), false
		}
		end := pos + k
		c := b[end]
		if c < 0x20 {
			return end, false
		}
		if run := b[pos:end]; len(run) > 0 {
			if !ascii && !utf8.Valid(run) {
				return p.decodeInto(b, i, e)
			}
			p.stats.High = p.stats.High || !ascii
			n += len(run)
			last = run[len(run)-1]
		}
		if c == '"' {
			if bytes.IndexByte(b[i+1:end], 0x7f) >= 0 {
				return p.decodeInto(b, i, e)
			}
			e.Body, e.unread, e.bodyLen, e.bodyLast = nil, true, uint32(n), last
			return end + 1, true
		}
		out, next, ok := unescape(esc[:0], b, end)
		if !ok {
			return next, false
		}
		p.stats.addEscaped(b[end+1], out)
		if p.stats.Escapes || p.stats.Ctl || out[len(out)-1] == 0x7f {
			return p.decodeInto(b, i, e)
		}
		n += len(out)
		last = out[len(out)-1]
		pos = next
	}
}

// decodeInto decodes the JSON string at b[i] into e's body.
func (p *JSONParser) decodeInto(b []byte, i int, e *Entry) (int, bool) {
	var ok bool
	e.Body, i, ok = p.decodeString(b, i)
	return i, ok
}

// growScratch returns out with room for n more bytes, in a buffer from
// the pools that becomes the scratch: a long body's buffer is reused by
// the next long body rather than grown again by appends.
func (p *JSONParser) growScratch(out []byte, n int) []byte {
	grown := GetBuf(max(2*cap(out), len(out)+n))[:len(out)]
	copy(grown, out)
	PutBuf(p.scratch)
	p.scratch = grown
	return grown
}

// appendValid appends s with each invalid UTF-8 sequence replaced by U+FFFD.
func appendValid(dst, s []byte) []byte {
	if utf8.Valid(s) {
		return append(dst, s...)
	}
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, r)
		} else {
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
	return dst
}

func unescape(out, b []byte, j int) ([]byte, int, bool) {
	if j+1 >= len(b) {
		return out, j, false
	}
	switch b[j+1] {
	case '"', '\\', '/':
		return append(out, b[j+1]), j + 2, true
	case 'b':
		return append(out, '\b'), j + 2, true
	case 'f':
		return append(out, '\f'), j + 2, true
	case 'n':
		return append(out, '\n'), j + 2, true
	case 'r':
		return append(out, '\r'), j + 2, true
	case 't':
		return append(out, '\t'), j + 2, true
	case 'u':
		r, ok := hex4(b, j+2)
		if !ok {
			return out, j, false
		}
		j += 6
		if utf16IsHigh(r) {
			if j+6 <= len(b) && b[j] == '\\' && b[j+1] == 'u' {
				if r2, ok := hex4(b, j+2); ok && utf16IsLow(r2) {
					return utf8.AppendRune(out, 0x10000+(r-0xD800)<<10+(r2-0xDC00)), j + 6, true
				}
			}
			return utf8.AppendRune(out, utf8.RuneError), j, true
		}
		if utf16IsLow(r) {
			return utf8.AppendRune(out, utf8.RuneError), j, true
		}
		return utf8.AppendRune(out, r), j, true
	}
	return out, j, false
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// parseID parses the id value: an unsigned 64-bit integer, or null (absent).
func parseID(b []byte, i int) (id uint64, has bool, next int, ok bool) {
	if i+4 <= len(b) && string(b[i:i+4]) == "null" {
		return 0, false, i + 4, true
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		d := uint64(b[j] - '0')
		if id > (1<<64-1-d)/10 {
			return 0, false, j, false
		}
		id = id*10 + d
		j++
	}
	if j == i || (b[i] == '0' && j > i+1) {
		return 0, false, j, false
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		return 0, false, j, false
	}
	return id, true, j, true
}

const maxJSONDepth = 64

// skipValue validates and skips any JSON value.
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxJSONDepth {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		var p JSONParser
		_, j, ok := p.decodeString(b, i)
		return j, ok
	case c == '{' || c == '[':
		return skipContainer(b, i, depth)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	}
	return i, false
}

func skipContainer(b []byte, i, depth int) (int, bool) {
	closer, isObject := byte(']'), b[i] == '{'
	if isObject {
		closer = '}'
	}
	j := skipWS(b, i+1)
	if j < len(b) && b[j] == closer {
		return j + 1, true
	}
	for {
		var ok bool
		if isObject {
			var p JSONParser
			if _, j, ok = p.decodeString(b, j); !ok {
				return j, false
			}
			j = skipWS(b, j)
			if j >= len(b) || b[j] != ':' {
				return j, false
			}
			j = skipWS(b, j+1)
		}
		if j, ok = skipValue(b, j, depth+1); !ok {
			return j, false
		}
		j = skipWS(b, j)
		if j >= len(b) {
			return j, false
		}
		if b[j] == closer {
			return j + 1, true
		}
		if b[j] != ',' {
			return j, false
		}
		j = skipWS(b, j+1)
	}
}

func literal(b []byte, i int, word string) (int, bool) {
	if i+len(word) <= len(b) && string(b[i:i+len(word)]) == word {
		return i + len(word), true
	}
	return i, false
}

func skipNumber(b []byte, i int) (int, bool) {
	j := i
	if b[j] == '-' {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == start || (b[start] == '0' && j > start+1) {
		return j, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == k {
			return j, false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == k {
			return j, false
		}
	}
	return j, true
}
