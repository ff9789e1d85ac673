package logline_test

import (
	"bytes"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// parseMeasured parses line with a parser that only measures the bodies
// of mask, and with a full one, each through ParseLineAt when the line is
// canonical and ParseInto else, as a reader does.
func parseMeasured(line []byte, mask logline.SourceMask) (got, want logline.Entry, gok, wok bool) {
	measured := logline.JSONParser{Measured: mask}
	var full logline.JSONParser
	buf := append(bytes.Clone(line), '\n')
	if _, gok = measured.ParseLineAt(buf, &got); !gok {
		gok = measured.ParseInto(bytes.Clone(line), &got)
	}
	wok = full.ParseInto(bytes.Clone(line), &want)
	return got, want, gok, wok
}

// FuzzParseMeasured: a parser that only measures some sources' bodies
// accepts and rejects exactly the lines a full parser does, and yields
// an entry whose length, last byte, stats and sizes in every format
// (render.MeasureSizes) are those of the decoded body; a body it decoded
// after all is the full parser's.
func FuzzParseMeasured(f *testing.F) {
	T := `{"t":"2026-05-01T10:00:00.123Z","s":"`
	for _, l := range []string{
		T + `stdout","d":"hi\n","id":7}`,
		T + `stdout","d":"two\nlines \"quoted\" back\\slash\ttab\/"}`,
		T + `stdout","d":"é日本🦀 \u00e9\ud83e\udd80"}`,
		T + `stdout","d":"\u001b[31mred\u001b[0m\r\n"}`,
		T + `stderr","d":"del ` + "\x7f" + ` and \u007f"}`,
		T + `output","d":"bad ` + "\xff" + ` utf8"}`,
		T + `stdout","d":"\ud800 lone"}`,
		T + `stdout","d":"/w==","e":"b64"}`,
		T + `stdout","d":""}`,
		T + `stdout","d":"\n"}`,
		T + `stdout","d":"bad \x escape"}`,
		T + `stdout","d":"unterminated`,
	} {
		f.Add([]byte(l), uint8(logline.MaskAll))
	}
	f.Fuzz(func(t *testing.T, line []byte, m uint8) {
		mask := logline.SourceMask(m) & logline.MaskAll
		got, want, gok, wok := parseMeasured(line, mask)
		if gok != wok {
			t.Fatalf("%q: measuring %b accepts %v, full parser %v", line, mask, gok, wok)
		}
		if !gok {
			return
		}
		gst, gdec := got.Decoded()
		wst, wdec := want.Decoded()
		if got.Time != want.Time || got.Source != want.Source || got.HasID != want.HasID || got.ID != want.ID || gdec != wdec || gst != wst {
			t.Fatalf("%q: measuring %b gives %+v, full parser %+v", line, mask, got, want)
		}
		if got.BodyLen() != len(want.Body) || got.BodyLast() != want.BodyLast() {
			t.Fatalf("%q: length %d last %q, the decoded body %q", line, got.BodyLen(), got.BodyLast(), want.Body)
		}
		if got.Body != nil && !bytes.Equal(got.Body, want.Body) {
			t.Fatalf("%q: body %q, full parser %q", line, got.Body, want.Body)
		}
		if got.Body == nil && len(want.Body) > 0 && !mask.Has(got.Source) {
			t.Fatalf("%q: body of %v not read, measuring only %b", line, got.Source, mask)
		}
		render.MeasureSizes(&got)
		render.MeasureSizes(&want)
		for f := range logline.Format(logline.NumFormats) {
			g, _ := got.MeasuredSize(f)
			w, _ := want.MeasuredSize(f)
			if g != w {
				t.Fatalf("%q: size in format %d: %d measured, %d decoded", line, f, g, w)
			}
		}
	})
}

// TestParseMeasuredReads: a measuring parser leaves unread exactly the
// bodies whose text rendering is their lines as they are, and decodes the
// others (ESC, other control bytes, DEL, invalid UTF-8, base64).
func TestParseMeasuredReads(t *testing.T) {
	T := `{"t":"2026-05-01T10:00:00.123Z","s":"stdout","d":"`
	for _, c := range []struct {
		d    string
		read bool
	}{
		{`plain`, false}, {`a\nb\n`, false}, {`\"q\" \\ \t \/ é \u00e9 \ud83e\udd80`, false}, {``, false},
		{`\u001b[0m`, true}, {`cr\r\n`, true}, {`\b`, true}, {`\u0001`, true}, {"del \x7f", true}, {`\u007f`, true},
		{"bad \xff", true}, {`\ud800`, false},
	} {
		line := []byte(T + c.d + `"}`)
		got, _, ok, _ := parseMeasured(line, logline.MaskAll)
		if !ok {
			t.Fatalf("%q did not parse", line)
		}
		if read := got.Body != nil; read != c.read {
			t.Errorf("%q: body read %v, want %v", c.d, read, c.read)
		}
	}
	line := []byte(T + `/w==","e":"b64"}`)
	if got, _, ok, _ := parseMeasured(line, logline.MaskAll); !ok || !bytes.Equal(got.Body, []byte{0xff}) {
		t.Errorf("%q: body %q, want the base64 decoding", line, got.Body)
	}
}
