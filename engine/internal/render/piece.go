package render

import (
	"encoding/base64"
	"strconv"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// WholeMax is the longest body rendered whole: its rendering is at most
// about 33 times as long (text: one prefix per newline), 0.5 MiB. A longer
// body is rendered in pieces of about PieceLen bytes, so that memory is
// bounded by the line, not by its rendering (one 10 MiB exec.log line of
// newline escapes renders to 170 MB of text).
const WholeMax = 16 << 10

// PieceLen is the size a piece of a long entry's rendering aims at.
const PieceLen = 64 << 10

// Phases of a piecewise rendering.
const (
	partHead = iota // JSON: the keys before "d"
	partBody
	partTail // JSON: the keys after "d"
	partDone
)

// EntryPart is the resumable position of an entry being rendered in
// pieces: a phase and an offset into the body. The entry's body must stay
// valid until the rendering is done (the merger is not advanced meanwhile).
type EntryPart struct {
	e       *logline.Entry
	f       logline.Format
	c       logline.Cursor
	phase   int
	off     int  // next body byte
	b64     bool // JSON: the body is written as base64
	open    bool // text: the current line has its prefix
	started bool // text: a line was begun
}

// Done reports whether the whole entry was rendered.
func (p *EntryPart) Done() bool { return p.e == nil || p.phase == partDone }

// Begin starts rendering e in format f; c is its cursor (JSON only).
func (p *EntryPart) Begin(f logline.Format, e *logline.Entry, c *logline.Cursor) {
	*p = EntryPart{e: e, f: f, c: *c, phase: partBody}
	if f == logline.FormatJSON {
		p.phase = partHead
	}
}

// AppendPiece appends the next piece of p's entry to dst: the whole entry if
// its body is short, else about PieceLen bytes.
func (r *Renderer) AppendPiece(dst []byte, p *EntryPart) []byte {
	if p.Done() {
		return dst
	}
	if len(p.e.Body) <= WholeMax {
		p.phase = partDone
		return r.AppendEntry(dst, p.f, p.e, &p.c)
	}
	limit := len(dst) + PieceLen
	for len(dst) < limit && p.phase != partDone {
		switch p.phase {
		case partHead:
			dst = r.appendJSONHead(dst, p.e)
			p.phase, p.b64 = partBody, !p.e.ValidUTF8()
		case partTail:
			dst = appendJSONTail(dst, p.e, p.b64, &p.c)
			p.phase = partDone
		default:
			dst = r.appendBodyPiece(dst, p, limit)
		}
	}
	return dst
}

// appendBodyPiece appends the rendering of body bytes from p.off until dst
// reaches limit or the body ends.
func (r *Renderer) appendBodyPiece(dst []byte, p *EntryPart, limit int) []byte {
	body := p.e.Body
	room := max(limit-len(dst), 1)
	switch {
	case p.f == logline.FormatRaw:
		end := p.off + min(room, len(body)-p.off)
		dst = append(dst, body[p.off:end]...)
		p.off = end
	case p.f == logline.FormatText:
		return r.appendTextPiece(dst, p, limit)
	case p.b64:
		n := min(max(room/4*3, 3), len(body)-p.off)
		dst = base64.StdEncoding.AppendEncode(dst, body[p.off:p.off+n])
		p.off += n
	default:
		n := min(max(room/6, 1), len(body)-p.off)
		dst = appendJSONString(dst, body[p.off:p.off+n])
		p.off += n
	}
	if p.off == len(body) {
		p.phase = partTail
		if p.f == logline.FormatRaw {
			p.phase = partDone
		}
	}
	return dst
}

// appendTextPiece renders p's text body from p.off on until dst reaches
// limit or the body ends.
func (r *Renderer) appendTextPiece(dst []byte, p *EntryPart, limit int) []byte {
	var buf [logline.TimeLen + 8]byte
	out := textOut{dst: dst, prefix: r.appendTextPrefix(buf[:0], p.e)}
	walkText(&out, p, limit)
	return out.dst
}

// appendTextPrefix appends "<TIME> <SOURCE> ".
func (r *Renderer) appendTextPrefix(dst []byte, e *logline.Entry) []byte {
	dst = append(dst, r.tf.Format(e.Time)...)
	dst = append(dst, ' ')
	dst = append(dst, logline.SourceNames[e.Source]...)
	return append(dst, ' ')
}

// appendJSONHead appends the keys of a JSON rendering before d's value.
func (r *Renderer) appendJSONHead(dst []byte, e *logline.Entry) []byte {
	dst = append(dst, `{"t":"`...)
	dst = append(dst, r.tf.Format(e.Time)...)
	dst = append(dst, `","s":"`...)
	dst = append(dst, logline.SourceNames[e.Source]...)
	return append(dst, `","d":"`...)
}

// appendJSONTail appends the keys of a JSON rendering after d's value.
func appendJSONTail(dst []byte, e *logline.Entry, b64 bool, c *logline.Cursor) []byte {
	dst = append(dst, '"')
	if e.HasID {
		dst = append(dst, `,"id":`...)
		dst = strconv.AppendUint(dst, e.ID, 10)
	}
	if b64 {
		dst = append(dst, `,"e":"b64"`...)
	}
	dst = append(dst, `,"cursor":"`...)
	dst = c.AppendText(dst)
	return append(dst, "\"}\n"...)
}
