package msbwriter

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// wireLine is a decoded exec.log line.
type wireLine struct {
	T  string  `json:"t"`
	S  string  `json:"s"`
	D  string  `json:"d"`
	E  string  `json:"e"`
	ID *uint64 `json:"id"`
}

func decodeLine(t *testing.T, line []byte) wireLine {
	t.Helper()
	var w wireLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("line %q does not decode: %v", line, err)
	}
	return w
}

// body returns the raw bytes the line carries.
func (w wireLine) body(t *testing.T) []byte {
	t.Helper()
	if w.E != "b64" {
		return []byte(w.D)
	}
	b, err := base64.StdEncoding.DecodeString(w.D)
	if err != nil {
		t.Fatalf("bad base64 %q: %v", w.D, err)
	}
	return b
}

func TestAppendLineRoundTrip(t *testing.T) {
	ts := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	cases := []struct {
		name string
		c    Chunk
		wid  bool
	}{
		{"plain", Chunk{Time: ts, Source: "stdout", Data: []byte("hi\n"), ID: 7, HasID: true}, true},
		{"no id", Chunk{Time: ts, Source: "stderr", Data: []byte("oops")}, false},
		{"system drops id", Chunk{Time: ts, Source: "system", Data: []byte("started"), ID: 3, HasID: true}, false},
		{"empty", Chunk{Time: ts, Source: "output", Data: nil, ID: 0, HasID: true}, true},
		{"max id", Chunk{Time: ts, Source: "stdout", Data: []byte("x"), ID: ^uint64(0), HasID: true}, true},
		{"escapes", Chunk{Time: ts, Source: "output", Data: []byte("q\" b\\ \n\r\t\b\f \x00\x01\x1b[31mred\x1b[0m \x7f"), HasID: true, ID: 1}, true},
		{"unicode", Chunk{Time: ts, Source: "stdout", Data: []byte("é 日本語 🚀 \u2028 end"), HasID: true, ID: 2}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := AppendLine([]byte("prefix"), tc.c)
			if !bytes.HasPrefix(line, []byte("prefix{")) || !bytes.HasSuffix(line, []byte("}\n")) {
				t.Fatalf("line %q: want prefix kept and one trailing newline", line)
			}
			line = line[len("prefix"):]
			if bytes.Count(line, []byte("\n")) != 1 {
				t.Fatalf("line %q holds a raw newline besides the last", line)
			}
			w := decodeLine(t, line)
			if w.T != "2026-05-01T10:00:00.123456Z" {
				t.Errorf("t = %q, want 2026-05-01T10:00:00.123456Z", w.T)
			}
			if w.S != tc.c.Source || w.E != "" {
				t.Errorf("s, e = %q, %q", w.S, w.E)
			}
			if !bytes.Equal(w.body(t), tc.c.Data) {
				t.Errorf("d = %q, want %q", w.body(t), tc.c.Data)
			}
			if (w.ID != nil) != tc.wid || (w.ID != nil && *w.ID != tc.c.ID) {
				t.Errorf("id = %v, want present=%v %d", w.ID, tc.wid, tc.c.ID)
			}
		})
	}
}

func TestAppendLineExactBytes(t *testing.T) {
	ts := time.Date(2026, 5, 1, 10, 0, 0, 123000000, time.UTC)
	got := string(AppendLine(nil, Chunk{Time: ts, Source: "stdout", Data: []byte("hi\n\x1b"), ID: 7, HasID: true}))
	want := `{"t":"2026-05-01T10:00:00.123000Z","s":"stdout","d":"hi\n\u001b","id":7}` + "\n"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestAppendLineBinary(t *testing.T) {
	ts := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, data := range [][]byte{{0xff}, {'a', 0xc3}, {0xed, 0xa0, 0x80}, []byte("ok\x80\n"), {0, 1, 2, 0xfe, 0xff, '\n'}} {
		line := AppendLine(nil, Chunk{Time: ts, Source: "stdout", Data: data, ID: 9, HasID: true})
		w := decodeLine(t, line)
		if w.E != "b64" {
			t.Errorf("%q: e = %q, want b64 (line %s)", data, w.E, line)
		}
		if !bytes.Equal(w.body(t), data) {
			t.Errorf("%q: decoded %q", data, w.body(t))
		}
		if !bytes.Contains(line, []byte(`","e":"b64","id":9}`)) {
			t.Errorf("key order: %s", line)
		}
	}
}

func TestAppendJSONStringAllBytes(t *testing.T) {
	var b strings.Builder
	for c := 0; c < 0x80; c++ {
		b.WriteByte(byte(c))
	}
	b.WriteString("é日本語🚀")
	s := b.String()
	enc := appendJSONString(nil, []byte(s))
	var back string
	if err := json.Unmarshal(enc, &back); err != nil {
		t.Fatalf("%s: %v", enc, err)
	}
	if back != s {
		t.Fatalf("round trip: %q != %q", back, s)
	}
	if !utf8.Valid(enc) || bytes.ContainsAny(enc[1:len(enc)-1], "\x00\n\r\x1f") {
		t.Fatalf("raw control bytes in %q", enc)
	}
	if !bytes.Contains(enc, []byte(`\n\u000b\f\r\u000e`)) || !bytes.Contains(enc, []byte(`!\"#`)) {
		t.Fatalf("unexpected escapes: %s", enc)
	}
}

func BenchmarkAppendLine(b *testing.B) {
	c := Chunk{Time: time.Now(), Source: "stdout", Data: []byte("GET /api/v1/items/12 200 \"ok\" 12ms café\n"), ID: 3, HasID: true}
	var buf []byte
	b.SetBytes(int64(len(AppendLine(nil, c))))
	for b.Loop() {
		buf = AppendLine(buf[:0], c)
	}
}
