package logline

import "encoding/binary"

// BodyStats is what the sizes of an entry's renderings depend on, gathered
// in one pass over its body.
type BodyStats struct {
	Newlines  int  // '\n' bytes
	Escapes   bool // holds ESC: the text size needs stripping
	Ctl       bool // holds a byte below 0x20 but '\n' and tab: the text view escapes it
	High      bool // holds bytes outside ASCII
	JSONExtra int  // bytes a JSON string adds by escaping
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
	t[Esc] |= classEscape
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

// Measure gathers body's stats, skipping eight plain bytes at a time.
func Measure(body []byte) BodyStats {
	var st BodyStats
	n := len(body)
	i := 0
	for ; i+8 <= n; i += 8 {
		w := binary.LittleEndian.Uint64(body[i : i+8])
		q := w ^ (LSB * '"')
		s := w ^ (LSB * '\\')
		if ((w-LSB*0x20)&^w|(q-LSB)&^q|(s-LSB)&^s|w)&MSB == 0 {
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

func (st *BodyStats) add(c byte) {
	k := byteClass[c]
	if k == 0 {
		return
	}
	if k&classJSONShort != 0 {
		st.JSONExtra++
	} else if k&classJSONLong != 0 {
		st.JSONExtra += 5
	}
	if k&classNewline != 0 {
		st.Newlines++
	}
	st.Escapes = st.Escapes || k&classEscape != 0
	st.Ctl = st.Ctl || k&classCtl != 0
	st.High = st.High || k&classHigh != 0
}

// addEscaped adds to st the bytes out that the escape \<kind> stood for:
// the one-letter escapes by what add would find in their byte, \u by
// each byte.
func (st *BodyStats) addEscaped(kind byte, out []byte) {
	switch kind {
	case 'n':
		st.Newlines++
		st.JSONExtra++
	case '"', '\\', 't':
		st.JSONExtra++
	case '/':
	default:
		for _, c := range out {
			st.add(c)
		}
	}
}
