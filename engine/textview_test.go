package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"
	"unicode/utf8"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// textAlphabet holds the bytes that matter to the text view's escaping:
// ANSI escapes, line ends, controls, tab, DEL, backslash and pieces of
// valid and invalid UTF-8.
var textAlphabet = []string{"a", "b ", "\n", "\r", "\r\n", "\t", "\x00", "\x01", "\x7f", "\x1b", "\x1b[", "m", "\x1b[0m",
	"\x1b]0;t\x07", "\x1b\\", "\\", "é", "\xc3", "\xa9", "€", "\xe2\x82", "\xac", "😀", "\xf0\x9f", "\x98\x80", "\xff", "\x80", "\u2028"}

func randomTextBody(rng *rand.Rand, n int) []byte {
	var b []byte
	for range rng.Intn(n + 1) {
		b = append(b, textAlphabet[rng.Intn(len(textAlphabet))]...)
	}
	return b
}

// TestTextEscapingProperty compares the text rendering of random bodies
// with the model's straightforward one (strip, split at '\n', drop a final
// '\r', escape byte by byte), and every way the engine computes its size —
// the walker, the stats of measure and those the JSON parser gathers —
// with the bytes rendered.
func TestTextEscapingProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	var r render.Renderer
	for i := range 20000 {
		body := randomTextBody(rng, 12)
		e := Entry{Time: nsAt(int64(i)), Source: Source(i % int(logline.NumSources)), Origin: logline.OriginRuntime, Body: body}
		got := r.AppendEntry(nil, FormatText, &e, &Cursor{})
		want := modelText(mEntry{time: e.Time, source: e.Source, body: body})
		if string(got) != string(want) {
			t.Fatalf("body %q:\n got %q\nwant %q", body, got, want)
		}
		if n := render.EntrySize(FormatText, &e); n != int64(len(got)) {
			t.Fatalf("body %q: entrySize %d, rendered %d bytes", body, n, len(got))
		}
		if !utf8.Valid(body) {
			continue
		}
		d, err := json.Marshal(string(body))
		if err != nil {
			t.Fatal(err)
		}
		line := fmt.Appendf(nil, `{"t":"%s","s":"stdout","d":%s}`, tsAt(1), d)
		var jp logline.JSONParser
		var x Entry
		ok := jp.ParseInto(line, &x)
		if !ok || string(x.Body) != string(body) {
			t.Fatalf("line %s: parsed %v %q", line, ok, x.Body)
		}
		st := x.BodyStats()
		if n, want := render.SizeOf(FormatText, &x, &st), len(r.AppendEntry(nil, FormatText, &x, &Cursor{})); n != int64(want) {
			t.Fatalf("line %s: sizeOf with the parser's stats %d, rendered %d bytes", line, n, want)
		}
	}
}

// FuzzTextRender: for any body, the text rendering equals the model's,
// its size is what the index computes, and rendering it in pieces (the
// body repeated past WholeMax) equals rendering it whole. Whatever the
// body, an iteration renders more than WholeMax bytes twice: the buffers
// they go to are the worker's, reused from one iteration to the next.
func FuzzTextRender(f *testing.F) {
	for _, s := range textAlphabet {
		f.Add([]byte(s + "x\r\n" + s))
	}
	var longBody, pieces, whole []byte
	f.Fuzz(func(t *testing.T, body []byte) {
		var r render.Renderer
		e := Entry{Time: nsAt(1), Source: SourceSystem, Origin: logline.OriginKernel, Body: body}
		got := r.AppendEntry(nil, FormatText, &e, &Cursor{})
		if want := modelText(mEntry{time: e.Time, source: e.Source, body: body}); string(got) != string(want) {
			t.Fatalf("body %q:\n got %q\nwant %q", body, got, want)
		}
		st := e.BodyStats()
		if n := render.SizeOf(FormatText, &e, &st); n != int64(len(got)) {
			t.Fatalf("body %q: size %d, rendered %d bytes", body, n, len(got))
		}
		if len(body) == 0 {
			return
		}
		longBody = longBody[:0]
		for len(longBody) <= render.WholeMax {
			longBody = append(longBody, body...)
		}
		long := Entry{Time: e.Time, Source: e.Source, Body: longBody}
		var p render.EntryPart
		p.Begin(FormatText, &long, &Cursor{})
		pieces = pieces[:0]
		for !p.Done() {
			pieces = r.AppendPiece(pieces, &p)
		}
		if whole = r.AppendEntry(whole[:0], FormatText, &long, &Cursor{}); !bytes.Equal(pieces, whole) {
			t.Fatalf("body %q repeated: pieces differ from the whole rendering", body)
		}
	})
}
