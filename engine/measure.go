package engine

import (
	"encoding/base64"
	"encoding/binary"
	"strconv"
)

// bodyStats is what the sizes of an entry's renderings depend on, gathered
// in one pass over its body.
type bodyStats struct {
	newlines  int  // '\n' bytes
	escapes   bool // holds ESC: the text size needs stripping
	ctl       bool // holds a byte below 0x20 but '\n' and tab: the text view escapes it
	high      bool // holds bytes outside ASCII
	jsonExtra int  // bytes a JSON string adds by escaping
}

// byteClass flags the bytes that measure looks at.
var byteClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = classJSONLong
	}
	for _, c := range []byte{'"', '\\', '\n', '\r', '\t', '\b', '\f'} {
		t[c] = classJSONShort
	}
	for c := 0; c < 0x20; c++ {
		if c != '\n' && c != '\t' {
			t[c] |= classCtl
		}
	}
	t['\n'] |= classNewline
	t[esc] |= classEscape
	for c := 0x80; c < 0x100; c++ {
		t[c] = classHigh
	}
	return t
}()

const (
	classJSONShort = 1 << iota // escaped as two bytes
	classJSONLong              // escaped as \u00XX
	classNewline
	classEscape
	classHigh
	classCtl
)

// measure gathers body's stats, skipping eight plain bytes at a time.
func measure(body []byte) bodyStats {
	var st bodyStats
	n := len(body)
	i := 0
	for ; i+8 <= n; i += 8 {
		w := binary.LittleEndian.Uint64(body[i : i+8])
		q := w ^ (lsb * '"')
		s := w ^ (lsb * '\\')
		if ((w-lsb*0x20)&^w|(q-lsb)&^q|(s-lsb)&^s|w)&msb == 0 {
			continue
		}
		for _, c := range body[i : i+8] {
			st.add(c)
		}
	}
	for _, c := range body[i:] {
		st.add(c)
	}
	return st
}

func (st *bodyStats) add(c byte) {
	k := byteClass[c]
	if k == 0 {
		return
	}
	if k&classJSONShort != 0 {
		st.jsonExtra++
	} else if k&classJSONLong != 0 {
		st.jsonExtra += 5
	}
	if k&classNewline != 0 {
		st.newlines++
	}
	st.escapes = st.escapes || k&classEscape != 0
	st.ctl = st.ctl || k&classCtl != 0
	st.high = st.high || k&classHigh != 0
}

// sizeOf returns the length of e rendered in format f, given its stats.
func sizeOf(f Format, e *Entry, st *bodyStats) int64 {
	switch f {
	case FormatRaw:
		return int64(len(e.Body))
	case FormatText:
		if !plainText(e, st) {
			return textSize(e)
		}
		var last byte
		if len(e.Body) > 0 {
			last = e.Body[len(e.Body)-1]
		}
		return textSizeOf(e.Source, len(e.Body), st.newlines, last)
	}
	n := jsonFixed + int64(len(sourceNames[e.Source])) + int64(CursorLen)
	if !st.high || e.validUTF8() {
		n += int64(len(e.Body) + st.jsonExtra)
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
func textSizeOf(src Source, n, newlines int, last byte) int64 {
	pieces := newlines
	if n == 0 || last != '\n' {
		pieces++
	}
	prefix := int64(TimeLen + 1 + len(sourceNames[src]) + 1)
	return int64(pieces)*(prefix+1) + int64(n-newlines)
}
