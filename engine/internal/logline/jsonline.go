package logline

import "encoding/base64"

// JSONParser parses exec.log lines. It is a strict, allocation-free JSON
// object scanner specialised for the keys t, s, d, id and e; unknown keys are
// validated and ignored. The zero value is ready to use.
type JSONParser struct {
	// Only, when not 0, is the sources whose bodies are decoded: the d of
	// a canonical line of another source is validated, not decoded (its
	// entry is not yielded, but a bad one is still a malformed line).
	Only SourceMask
	// Measured is the sources whose bodies are only measured: the d of a
	// canonical line of one is scanned for its length, last byte and
	// stats, not decoded (Entry.BodyLen), when its text rendering is its
	// lines as they are; any other is decoded.
	Measured SourceMask
	stats    BodyStats // of the string decodeString decoded last
	times    timeCache
	scratch  []byte // unescaped d
	b64      []byte // decoded d when e is b64
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
	d := i + 5
	src, srcOK := sourceNamed(sRaw)
	switch {
	case p.skips(src, srcOK):
		i, ok = skipString(line, d)
	case srcOK && p.Measured.Has(src):
		i, ok = p.measureString(line, d, e)
	default:
		e.Body, i, ok = p.decodeString(line, d)
	}
	if !ok {
		return 0, false
	}
	e.stats = p.stats
	b64 := hasAt(line, i, `,"e":"b64"`)
	if b64 {
		i += len(`,"e":"b64"`)
		if e.unread { // the body is the base64 decoding: it takes the string's bytes
			e.unread = false
			e.Body, _, _ = p.decodeString(line, d)
		}
	}
	if hasAt(line, i, `,"id":`) {
		if e.ID, e.HasID, i, ok = parseID(line, i+len(`,"id":`)); !ok {
			return 0, false
		}
	}
	if i >= len(line) || line[i] != '}' || !srcOK || !p.finish(e, tRaw, src, b64) {
		return 0, false
	}
	return i + 1, true
}

// finish checks and converts the fields both parsers found: the time and a
// base64 body; src is the source s names.
func (p *JSONParser) finish(e *Entry, tRaw []byte, src Source, b64 bool) bool {
	var ok bool
	e.Source = src
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
	src, ok := sourceNamed(sRaw)
	return ok && p.finish(e, tRaw, src, b64)
}

// skips reports whether the body of a line of source src (ok: s named
// one) is not wanted.
func (p *JSONParser) skips(src Source, ok bool) bool {
	return ok && p.Only != 0 && !p.Only.Has(src)
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
