package logline

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"
)

// JSONParser parses exec.log lines. It is a strict, allocation-free JSON
// object scanner specialised for the keys t, s, d, id and e; unknown keys are
// validated and ignored. The zero value is ready to use.
type JSONParser struct {
	// Only, when not 0, is the sources whose bodies are decoded: the d of
	// a canonical line of another source is validated, not decoded (its
	// entry is not yielded, but a bad one is still a malformed line).
	Only    SourceMask
	stats   BodyStats // of the string decodeString decoded last
	times   timeCache
	scratch []byte // unescaped d
	b64     []byte // decoded d when e is b64
}

// ParseInto parses line (without its newline) into e, an exec entry,
// which it overwrites. ok is false when the line is not a valid entry: bad
// JSON, unknown s, missing or unparseable t.
func (p *JSONParser) ParseInto(line []byte, e *Entry) bool {
	*e = Entry{Origin: OriginExec}
	if p.parseCanonical(line, e) {
		return true
	}
	*e = Entry{Origin: OriginExec}
	return p.parseAny(line, e)
}

// parseCanonical parses the layout microsandbox writes,
// {"t":"…","s":"…","d":"…"} with an optional ,"e":"b64" and ,"id":N, with
// no white space. ok is false for anything else, which parseAny then
// parses (or rejects) in full.
func (p *JSONParser) parseCanonical(line []byte, e *Entry) bool {
	end, ok := p.canonicalEnd(line, e)
	return ok && end == len(line)
}

// ParseLineAt parses the canonical line at the start of buf, which holds
// it and what follows, and returns its length with its newline: the line
// ends at the newline just after the object's closing brace. Nothing a
// canonical object accepts holds a newline (a string stops at any
// control byte, t and s hold none), so no other newline comes before it,
// and the line is found without a pass of its own. ok is false for a line
// that is not canonical, or not whole in buf: the caller then finds the
// line's end and parses it in full. e is overwritten either way.
func (p *JSONParser) ParseLineAt(buf []byte, e *Entry) (int, bool) {
	*e = Entry{Origin: OriginExec}
	end, ok := p.canonicalEnd(buf, e)
	if !ok || end >= len(buf) || buf[end] != '\n' {
		return 0, false
	}
	return end + 1, true
}

// canonicalEnd parses a canonical object at the start of b into e and
// returns the index just past its closing brace.
func (p *JSONParser) canonicalEnd(line []byte, e *Entry) (int, bool) {
	const head = `{"t":"`
	if len(line) < len(head) || string(line[:len(head)]) != head {
		return 0, false
	}
	tRaw, i, ok := plainString(line, len(head)-1, len("2026-05-01T10:00:00.000000Z"))
	if !ok || !hasAt(line, i, `,"s":"`) {
		return 0, false
	}
	sRaw, i, ok := plainString(line, i+5, len("stdout"))
	if !ok || !hasAt(line, i, `,"d":"`) {
		return 0, false
	}
	if p.skips(sRaw) {
		i, ok = skipString(line, i+5)
	} else {
		e.Body, i, ok = p.decodeString(line, i+5)
	}
	if !ok {
		return 0, false
	}
	e.stats = p.stats
	b64 := hasAt(line, i, `,"e":"b64"`)
	if b64 {
		i += len(`,"e":"b64"`)
	}
	if hasAt(line, i, `,"id":`) {
		if e.ID, e.HasID, i, ok = parseID(line, i+len(`,"id":`)); !ok {
			return 0, false
		}
	}
	if i >= len(line) || line[i] != '}' || !p.finish(e, tRaw, sRaw, b64) {
		return 0, false
	}
	return i + 1, true
}

// finish checks and converts the fields both parsers found: the source, the
// time, and a base64 body.
func (p *JSONParser) finish(e *Entry, tRaw, sRaw []byte, b64 bool) bool {
	var ok bool
	if e.Source, ok = ParseSource(string(sRaw)); !ok {
		return false
	}
	if e.Time, ok = p.times.parse(tRaw); !ok {
		return false
	}
	e.utf8 = true
	if b64 {
		var decoded bool
		e.Body, decoded = p.decodeBase64(e.Body)
		e.utf8 = !decoded
	}
	return true
}

func hasAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// The keys parseAny knows, one bit each in its set of keys seen.
const (
	keyT = 1 << iota
	keyS
	keyD
	keyE
	keyID
)

// knownKey returns the bit of key, or 0 for a key parseAny ignores.
func knownKey(key []byte) uint8 {
	switch string(key) {
	case "t":
		return keyT
	case "s":
		return keyS
	case "d":
		return keyD
	case "e":
		return keyE
	case "id":
		return keyID
	}
	return 0
}

// parseAny parses any JSON object line. A known key that comes twice makes
// the line invalid, whatever its values, as microsandbox's own reader
// (serde's derived Deserialize) rejects a duplicate field.
func (p *JSONParser) parseAny(line []byte, e *Entry) bool {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i = skipWS(line, i+1)
	var tRaw, sRaw, eRaw []byte
	var haveT, haveS, b64, ok bool
	var seen uint8
	if i < len(line) && line[i] == '}' {
		return false
	}
	for {
		key, j, kok := rawString(line, i)
		if !kok {
			return false
		}
		j = skipWS(line, j)
		if j >= len(line) || line[j] != ':' {
			return false
		}
		j = skipWS(line, j+1)
		bit := knownKey(key)
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch string(key) {
		case "t":
			tRaw, j, ok = rawString(line, j)
			haveT = ok
		case "s":
			sRaw, j, ok = rawString(line, j)
			haveS = ok
		case "d":
			e.Body, j, ok = p.decodeString(line, j)
			e.stats = p.stats
		case "e":
			eRaw, j, ok = rawString(line, j)
			b64 = ok && string(eRaw) == "b64"
		case "id":
			e.ID, e.HasID, j, ok = parseID(line, j)
		default:
			j, ok = skipValue(line, j, 0)
		}
		if !ok {
			return false
		}
		j = skipWS(line, j)
		if j >= len(line) {
			return false
		}
		if line[j] == '}' {
			i = j + 1
			break
		}
		if line[j] != ',' {
			return false
		}
		i = skipWS(line, j+1)
	}
	if skipWS(line, i) != len(line) || !haveT || !haveS {
		return false
	}
	return p.finish(e, tRaw, sRaw, b64)
}

// skips reports whether the body of a line of source sRaw is not wanted.
func (p *JSONParser) skips(sRaw []byte) bool {
	if p.Only == 0 || p.Only == MaskAll {
		return false
	}
	src, ok := ParseSource(string(sRaw))
	return ok && !p.Only.Has(src)
}

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

// ReleaseBuffers gives the parser's decoding buffers back to the pools; the
// bodies it returned are invalid after.
func (p *JSONParser) ReleaseBuffers() {
	PutBuf(p.scratch)
	PutBuf(p.b64)
	p.scratch, p.b64 = nil, nil
}

// BufferCap returns the capacity of the larger of p's decoding buffers.
func (p *JSONParser) BufferCap() int { return max(cap(p.scratch), cap(p.b64)) }

// decodeBase64 decodes s; if it does not decode, s is the body as is.
func (p *JSONParser) decodeBase64(s []byte) ([]byte, bool) {
	n := base64.StdEncoding.DecodedLen(len(s))
	if cap(p.b64) < n {
		PutBuf(p.b64)
		p.b64 = GetBuf(n)
	}
	m, err := base64.StdEncoding.Decode(p.b64[:n], s)
	if err != nil {
		return s, false
	}
	return p.b64[:m], true
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
// ParseSource) accept no backslash, quote or control byte, so a value that
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
		for _, c := range out[before:] { // what an escape stood for
			p.stats.add(c)
		}
	}
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
