package render

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// textOut receives the walker's output: appended to dst, or only counted.
type textOut struct {
	dst    []byte
	n      int64 // bytes counted, when count
	count  bool
	prefix []byte // "<TIME> <SOURCE> "
}

func (o *textOut) write(b []byte) {
	if o.count {
		o.n += int64(len(b))
	} else {
		o.dst = append(o.dst, b...)
	}
}

func (o *textOut) size() int {
	if o.count {
		return int(min(o.n, 1<<62))
	}
	return len(o.dst)
}

var newline = []byte{'\n'}

// textPlain marks the bytes a piece keeps as they are, outside multi-byte
// UTF-8: printable ASCII and tab.
var textPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// plainLen returns the length of the run of plain bytes at the start of b,
// eight at a time while no byte of a word is below 0x20, 0x7f or above.
func plainLen(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		d := w ^ (logline.LSB * 0x7f)
		if ((w-logline.LSB*0x20)&^w|(d-logline.LSB)&^d|w)&logline.MSB != 0 {
			break
		}
	}
	for i < len(b) && textPlain[b[i]] {
		i++
	}
	return i
}

// skipEscapes returns the first index at or after i that does not start an
// escape sequence.
func skipEscapes(body []byte, i int) int {
	for i < len(body) && body[i] == logline.Esc {
		i = logline.SkipEscape(body, i)
	}
	return i
}

// walkText writes p's text body from p.off on until out holds limit bytes
// (for a piece) or the body ends, which sets p.phase to partDone.
func walkText(out *textOut, p *EntryPart, limit int) {
	body := p.e.Body
	var hex [4]byte
	for out.size() < limit {
		p.off = skipEscapes(body, p.off)
		if p.off >= len(body) {
			if p.open || !p.started {
				if !p.open {
					out.write(out.prefix)
				}
				out.write(newline)
			}
			p.phase, p.open, p.started = partDone, false, true
			return
		}
		if !p.open && body[p.off] != '\n' {
			out.write(out.prefix)
			p.open, p.started = true, true
		}
		switch c := body[p.off]; {
		case c == '\n':
			if !p.open {
				out.write(out.prefix)
			}
			out.write(newline)
			p.off++
			p.open, p.started = false, true
		case textPlain[c]:
			n := plainLen(body[p.off:min(len(body), p.off+max(limit-out.size(), 1))])
			out.write(body[p.off : p.off+n])
			p.off += n
		case c == '\r' && finalCR(body, p.off):
			p.off++
		case c < utf8.RuneSelf:
			out.write(appendHexByte(hex[:0], c))
			p.off++
		default:
			p.off = writeRune(out, body, p.off)
		}
	}
}

// finalCR reports whether the '\r' at body[i] ends its piece once escapes
// are stripped.
func finalCR(body []byte, i int) bool {
	j := skipEscapes(body, i+1)
	return j >= len(body) || body[j] == '\n'
}

// writeRune writes the UTF-8 sequence at body[i] (a byte of 0x80 or above)
// and returns the index past it; a byte that starts no valid sequence of the
// stripped body is written \xNN.
func writeRune(out *textOut, body []byte, i int) int {
	if r, n := utf8.DecodeRune(body[i:]); r != utf8.RuneError || n > 1 {
		out.write(body[i : i+n])
		return i + n
	}
	// An escape sequence may split a sequence that stripping joins again.
	var seq [utf8.UTFMax]byte
	var ends [utf8.UTFMax]int
	k := 0
	for j := i; k < len(seq) && j < len(body); j = skipEscapes(body, j+1) {
		seq[k], ends[k] = body[j], j+1
		k++
	}
	if r, n := utf8.DecodeRune(seq[:k]); r != utf8.RuneError || n > 1 {
		out.write(seq[:n])
		return ends[n-1]
	}
	var hex [4]byte
	out.write(appendHexByte(hex[:0], body[i]))
	return i + 1
}

// appendHexByte appends c as \xNN.
func appendHexByte(dst []byte, c byte) []byte {
	return append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
}

// plainText reports whether e's body, of stats st, needs neither
// stripping nor escaping: its text rendering is then its lines, prefixed.
func plainText(e *logline.Entry, st *logline.BodyStats) bool {
	return !st.Escapes && !st.Ctl && (!st.High || e.ValidUTF8()) && bytes.IndexByte(e.Body, 0x7f) < 0
}

// appendText appends e's whole text rendering.
func (r *Renderer) appendText(dst []byte, e *logline.Entry) []byte {
	if st := e.BodyStats(); plainText(e, &st) {
		return r.appendPlainText(dst, e)
	}
	var p EntryPart
	p.Begin(logline.FormatText, e, &logline.Cursor{})
	var buf [logline.TimeLen + 8]byte
	out := textOut{dst: dst, prefix: r.appendTextPrefix(buf[:0], e)}
	walkText(&out, &p, 1<<62)
	return out.dst
}

// countPrefix stands for a prefix when only its length counts.
var countPrefix [logline.TimeLen + 8]byte

// textSize is the length of e's text rendering.
func textSize(e *logline.Entry) int64 {
	var p EntryPart
	p.Begin(logline.FormatText, e, &logline.Cursor{})
	out := textOut{count: true, prefix: countPrefix[:logline.TimeLen+2+len(logline.SourceNames[e.Source])]}
	walkText(&out, &p, 1<<62)
	return out.n
}

// appendPlainText appends the text rendering of a body that plainText
// accepts.
func (r *Renderer) appendPlainText(dst []byte, e *logline.Entry) []byte {
	body := e.Body
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
