package logline_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// The seed corpora are in testdata/fuzz/<FuzzName>/; f.Add adds a few
// more. Run one with
//
//	go test -run='^$' -fuzz='^FuzzParseExecLine$' -fuzztime=20s ./engine/

// FuzzParseExecLine: the exec.log parser never panics; it accepts no line
// with a known key twice; an entry it accepts re-encodes (with encoding/json) to a line that parses back to the
// same entry, and agrees with encoding/json's reading of the line; the
// stats it gathered while decoding a body are Measure's of the body.
func FuzzParseExecLine(f *testing.F) {
	f.Add([]byte(`{"t":"2026-05-01T10:00:00.123Z","s":"stdout","d":"hi\n","id":7}`))
	f.Add([]byte(`{"t":"2026-05-01T10:00:00Z","s":"stderr","d":"/w==","e":"b64"}`))
	f.Add([]byte("{\"t\":\"2026-05-01T12:00:00+02:00\",\"s\":\"system\",\"d\":\"a\xffb\\u00e9\\ud83d\\ude00\"}"))
	f.Add([]byte(`{"t":"bad","t":"2026-05-01T10:00:00Z","s":"stdout","d":"x"}`))
	f.Add([]byte(`{"t":"2026-05-01T10:00:00Z","s":"stdout","d":"x","\u0069d":1,"id":2}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var p logline.JSONParser
		in := append([]byte(nil), line...)
		e, ok := testutil.ParseExec(&p, line)
		if !bytes.Equal(in, line) {
			t.Fatalf("parse modified its input")
		}
		if !ok {
			return
		}
		if e.Source >= logline.NumSources {
			t.Fatalf("source %d", e.Source)
		}
		body := append([]byte(nil), e.Body...)
		if want := logline.Measure(body); !e.B64 && e.Stats != want {
			t.Fatalf("%q: stats %+v while decoding, Measure gives %+v", line, e.Stats, want)
		}

		// Re-encode and parse back.
		x := struct {
			T  string  `json:"t"`
			S  string  `json:"s"`
			D  string  `json:"d"`
			ID *uint64 `json:"id,omitempty"`
			E  string  `json:"e,omitempty"`
		}{T: testutil.RFC3339Nano(e.Time), S: e.Source.String(), D: string(body)}
		if e.HasID {
			x.ID = &e.ID
		}
		if !utf8.Valid(body) {
			x.D, x.E = base64.StdEncoding.EncodeToString(body), "b64"
		}
		re, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		var q logline.JSONParser
		e2, ok := testutil.ParseExec(&q, re)
		if !ok {
			t.Fatalf("re-encoded %q does not parse", re)
		}
		if e2.Time != e.Time || e2.Source != e.Source || e2.HasID != e.HasID || e2.ID != e.ID || !bytes.Equal(e2.Body, body) {
			t.Fatalf("round trip:\n line %q\n   -> %+v (d %q)\n   -> %q\n   -> %+v (d %q)", line, e, body, re, e2, e2.Body)
		}

		// encoding/json's reading of the same line.
		if !json.Valid(line) {
			t.Fatalf("accepted a line encoding/json calls invalid: %q", line)
		}
		if testutil.DuplicateKnownKey(line) {
			t.Fatalf("accepted a line with a known key twice: %q", line)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(line, &obj); err != nil {
			t.Fatalf("accepted %q: encoding/json: %v", line, err)
		}
		var ts, src, d, enc string
		if json.Unmarshal(obj["t"], &ts) != nil || json.Unmarshal(obj["s"], &src) != nil {
			t.Fatalf("accepted %q without string t and s", line)
		}
		if src != e.Source.String() {
			t.Fatalf("s %q, parsed %v", src, e.Source)
		}
		if tm, ok := testutil.ModelTime(ts); !ok || tm != e.Time {
			t.Fatalf("t %q is %v (%v), parsed %v", ts, tm, ok, e.Time)
		}
		if raw, ok := obj["e"]; ok && json.Unmarshal(raw, &enc) != nil {
			enc = ""
		}
		if raw, ok := obj["d"]; ok {
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatalf("accepted %q with a d that is not a string", line)
			}
		}
		if enc == "b64" {
			if dec, err := base64.StdEncoding.DecodeString(d); err == nil {
				d = string(dec)
			}
		}
		if d != string(body) {
			t.Fatalf("d of %q: encoding/json %q, parsed %q", line, d, body)
		}
		if raw, ok := obj["id"]; ok && string(raw) != "null" {
			var id uint64
			if err := json.Unmarshal(raw, &id); err != nil || !e.HasID || id != e.ID {
				t.Fatalf("id of %q: encoding/json %d (%v), parsed %v %d", line, id, err, e.HasID, e.ID)
			}
		} else if e.HasID {
			t.Fatalf("id of %q: none, parsed %d", line, e.ID)
		}
	})
}

var uptimeFuzzRE = regexp.MustCompile(`^\[ *([0-9]+)\.([0-9]+)\]`)

// FuzzParseTextLine: the text-line parser never panics, strips every
// escape, and finds timestamps that agree with the time package.
func FuzzParseTextLine(f *testing.F) {
	f.Add([]byte("2026-05-01T10:00:00.123Z INFO started"))
	f.Add([]byte("[   12.345678] eth0: link up"))
	f.Add([]byte("\x1b[1;31merror\x1b[0m \x1b]0;t\x07 plain \xff"))
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := string(line)
		buf := append([]byte(nil), line...)
		tl := logline.ParseTextLine(buf)
		if tl.Body < 0 || tl.Body > tl.N || tl.N > len(buf) {
			t.Fatalf("offsets %+v for a line of %d bytes", tl, len(buf))
		}
		body, kind := buf[tl.Body:tl.N], tl.Kind
		if len(body) > len(orig) {
			t.Fatalf("body longer than the line")
		}
		if bytes.IndexByte(body, logline.Esc) >= 0 {
			t.Fatalf("escape left in %q (line %q)", body, orig)
		}
		stripped := string(logline.StripANSI([]byte(orig)))
		switch kind {
		case logline.StampRFC3339:
			rest := strings.TrimLeft(stripped, " \t")
			tok := rest
			if i := strings.IndexAny(rest, " \t"); i >= 0 {
				tok = rest[:i]
			}
			if len(tok) < 20 || tok[len(tok)-1] != 'Z' {
				t.Fatalf("rule 1 on token %q", tok)
			}
			if tm, ok := testutil.ModelTime(tok); !ok || tm != tl.T {
				t.Fatalf("token %q is %v (%v), parsed %v", tok, tm, ok, tl.T)
			}
			if want := strings.TrimLeft(rest[len(tok):], " \t"); string(body) != want {
				t.Fatalf("body %q, want %q", body, want)
			}
		case logline.StampUptime:
			g := uptimeFuzzRE.FindStringSubmatch(stripped)
			if g == nil {
				t.Fatalf("uptime stamp in %q", stripped)
			}
			want, _ := new(big.Int).SetString(g[1], 10)
			want.Mul(want, big.NewInt(1e9))
			frac, _ := new(big.Int).SetString((g[2] + "000000000")[:9], 10)
			want.Add(want, frac)
			if !want.IsInt64() || want.Int64() != tl.Up {
				t.Fatalf("uptime of %q is %s ns, parsed %d", stripped, want, tl.Up)
			}
			if string(body) != stripped {
				t.Fatalf("body %q, want the whole line %q", body, stripped)
			}
		case logline.StampInherited:
			if string(body) != stripped {
				t.Fatalf("body %q, want the whole line %q", body, stripped)
			}
		default:
			t.Fatalf("kind %d", kind)
		}
	})
}

// FuzzParseCursor: ParseCursor never panics, rejects with ErrInvalidCursor,
// and what it accepts round-trips through String.
func FuzzParseCursor(f *testing.F) {
	f.Add(logline.Cursor{{Gen: 1, Offset: 2}, {Gen: 3, Offset: 4}, {Gen: 5, Offset: 6}}.String())
	f.Add("AQAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("not a cursor")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := logline.ParseCursor(s)
		if err != nil {
			if !errors.Is(err, logline.ErrInvalidCursor) {
				t.Fatalf("error %v does not wrap ErrInvalidCursor", err)
			}
			if c != (logline.Cursor{}) {
				t.Logf("a rejected cursor returned %v", c)
			}
			return
		}
		enc := c.String()
		c2, err := logline.ParseCursor(enc)
		if err != nil || c2 != c {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, c, enc, c2, err)
		}
		if len(enc) != logline.CursorLen {
			t.Fatalf("String() of %d bytes", len(enc))
		}
		trimmed := strings.TrimSpace(s)
		raw, err := base64.StdEncoding.DecodeString(trimmed)
		if err == nil && len(raw) == 1+16*int(logline.NumOrigins) && !strings.ContainsAny(trimmed, "\r\n") && enc != trimmed {
			t.Fatalf("a full cursor %q re-encodes as %q", trimmed, enc)
		}
	})
}

// TestUptimeOverflow: an uptime stamp whose nanoseconds do not fit in an
// int64 must not wrap around to an unrelated time: it cannot be kept exact,
// so it is not an uptime stamp (the line inherits a time, rule 3).
func TestUptimeOverflow(t *testing.T) {
	for _, line := range []string{"[999999999999.000000] x", "[ 9300000000.5] x"} {
		if tl := logline.ParseTextLine([]byte(line)); tl.Kind == logline.StampUptime {
			t.Errorf("parseTextLine(%q): uptime %d ns, which wrapped around", line, tl.Up)
		}
	}
}
