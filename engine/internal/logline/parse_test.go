package logline_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

func TestParseExecLine(t *testing.T) {
	t0 := testutil.NsAt(0)
	type want struct {
		time  logline.Time
		src   logline.Source
		id    int64 // -1: none
		body  string
		valid bool
	}
	ok := func(src logline.Source, body string, id int64) want { return want{t0, src, id, body, true} }
	bad := want{}
	T := `"` + testutil.TsAt(0) + `"`
	for _, tc := range []struct {
		line string
		want want
	}{
		{`{"t":` + T + `,"s":"stdout","d":"hi\n","id":7}`, ok(logline.SourceStdout, "hi\n", 7)},
		{`{"t":` + T + `,"s":"stderr","d":"e"}`, ok(logline.SourceStderr, "e", -1)},
		{`{"t":` + T + `,"s":"output","d":""}`, ok(logline.SourceOutput, "", -1)},
		{`{"t":` + T + `,"s":"system","d":"started"}`, ok(logline.SourceSystem, "started", -1)},
		{`{"t":` + T + `,"s":"stdout"}`, ok(logline.SourceStdout, "", -1)}, // d defaults to empty
		{`{"s":"stdout","t":` + T + `,"id":null,"d":"x"}`, ok(logline.SourceStdout, "x", -1)},
		{` { "t" : ` + T + ` , "s" : "stdout" , "d" : "ws" } `, ok(logline.SourceStdout, "ws", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"x","unknown":{"a":[1,2.5e3,-0.1,true,false,null,"s"]}}`, ok(logline.SourceStdout, "x", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"x","id":18446744073709551615}`, ok(logline.SourceStdout, "x", 1<<63-1)}, // checked below
		{`{"t":` + T + `,"s":"stdout","d":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00"}`, ok(logline.SourceStdout, "\"\\/\b\f\n\r\tAé€😀", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"lone \ud800 and \udc00 surrogates"}`, ok(logline.SourceStdout, "lone \uFFFD and \uFFFD surrogates", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"raw é ✓ 😀"}`, ok(logline.SourceStdout, "raw é ✓ 😀", -1)},
		{"{\"t\":" + T + ",\"s\":\"stdout\",\"d\":\"bad \xff\xfe utf8 \xe2\x82\"}", ok(logline.SourceStdout, "bad \uFFFD\uFFFD utf8 \uFFFD\uFFFD", -1)},
		{"{\"t\":" + T + ",\"s\":\"stdout\",\"d\":\"esc \\n then bad \xc3\"}", ok(logline.SourceStdout, "esc \n then bad \uFFFD", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"aGkK","e":"b64"}`, ok(logline.SourceStdout, "hi\n", -1)},
		{`{"t":` + T + `,"s":"stdout","e":"b64","d":"/wA="}`, ok(logline.SourceStdout, "\xff\x00", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"not base64!","e":"b64"}`, ok(logline.SourceStdout, "not base64!", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"aGk","e":"b64"}`, ok(logline.SourceStdout, "aGk", -1)}, // unpadded: not standard base64
		{`{"t":` + T + `,"s":"stdout","d":"aGkK","e":"utf8"}`, ok(logline.SourceStdout, "aGkK", -1)},
		{`{"t":"2026-05-01T12:00:00+02:00","s":"stdout","d":"x"}`, ok(logline.SourceStdout, "x", -1)},
		{`{"t":"2026-05-01T05:30:00.000-04:30","s":"stdout","d":"x"}`, ok(logline.SourceStdout, "x", -1)},

		{``, bad},
		{`{}`, bad},
		{`{not json`, bad},
		{`[1,2]`, bad},
		{`"string"`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x"`, bad},                            // unterminated
		{`{"t":` + T + `,"s":"stdout","d":"x"} x`, bad},                         // trailing garbage
		{`{"t":` + T + `,"s":"stdout","d":"x"}{}`, bad},                         // two objects
		{`{"t":` + T + `,"s":"stdout","d":"x",}`, bad},                          // trailing comma
		{`{"t":` + T + `,"s":"bogus","d":"x"}`, bad},                            // unknown source
		{`{"t":` + T + `,"s":"STDOUT","d":"x"}`, bad},                           // sources are lower case
		{`{"t":` + T + `,"d":"x"}`, bad},                                        // no s
		{`{"s":"stdout","d":"x"}`, bad},                                         // no t
		{`{"t":"yesterday","s":"stdout","d":"x"}`, bad},                         // bad time
		{`{"t":"2026-02-30T10:00:00Z","s":"stdout","d":"x"}`, bad},              // no such day
		{`{"t":"2026-05-01T10:00:00","s":"stdout","d":"x"}`, bad},               // no offset
		{`{"t":"2026-05-01 10:00:00Z","s":"stdout","d":"x"}`, bad},              // space
		{`{"t":1714557600,"s":"stdout","d":"x"}`, bad},                          // number
		{`{"t":` + T + `,"s":"stdout","d":12}`, bad},                            // d not a string
		{`{"t":` + T + `,"s":"stdout","d":"x","id":-1}`, bad},                   // negative id
		{`{"t":` + T + `,"s":"stdout","d":"x","id":1.5}`, bad},                  // float id
		{`{"t":` + T + `,"s":"stdout","d":"x","id":18446744073709551616}`, bad}, // overflow
		{`{"t":` + T + `,"s":"stdout","d":"x","id":"7"}`, bad},                  // string id
		{`{"t":` + T + `,"s":"stdout","d":"bad \x escape"}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"bad \u12 escape"}`, bad},
		{"{\"t\":" + T + ",\"s\":\"stdout\",\"d\":\"raw\ncontrol\"}", bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","u":[1,2}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","u":01}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","u":tru}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","u":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, bad},
		// A known key twice, whatever the values (serde rejects a duplicate field).
		{`{"t":"bad","t":` + T + `,"s":"stdout","d":"x"}`, bad},
		{`{"t":` + T + `,"t":` + T + `,"s":"stdout","d":"x"}`, bad},
		{`{"t":1,"t":` + T + `,"s":"stdout","d":"x"}`, bad},
		{`{"t":` + T + `,"s":1,"s":"stdout","d":"x"}`, bad},
		{`{"t":` + T + `,"s":"stdout","s":"stdout","d":"x"}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","d":"y"}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","e":"b64","e":"utf8"}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","id":-1,"id":5}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","id":5,"id":5}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","id":null,"id":5}`, bad},
		{`{"t":` + T + `,"s":"stdout","d":"x","\u0069d":5,"id":5}`, bad},                        // "\u0069d" is "id"
		{`{"t":` + T + `,"s":"stdout","d":"x","u":1,"u":2}`, ok(logline.SourceStdout, "x", -1)}, // unknown keys may repeat
		{`{"t":` + T + `,"s":"stdout","d":"x","u":{"t":1,"t":2}}`, ok(logline.SourceStdout, "x", -1)},
	} {
		var p logline.JSONParser
		got, gotOK := testutil.ParseExec(&p, []byte(tc.line))
		if gotOK != tc.want.valid {
			t.Errorf("parse(%q): ok = %v, want %v", tc.line, gotOK, tc.want.valid)
			continue
		}
		if !gotOK {
			continue
		}
		if string(got.Body) != tc.want.body || got.Source != tc.want.src || got.Time != tc.want.time {
			t.Errorf("parse(%q) = {t %v s %v d %q}, want {t %v s %v d %q}", tc.line, got.Time, got.Source, got.Body, tc.want.time, tc.want.src, tc.want.body)
		}
		switch {
		case strings.Contains(tc.line, "18446744073709551615"):
			if !got.HasID || got.ID != 1<<64-1 {
				t.Errorf("parse(%q): id %v %d, want max uint64", tc.line, got.HasID, got.ID)
			}
		case tc.want.id < 0 && got.HasID, tc.want.id >= 0 && (!got.HasID || got.ID != uint64(tc.want.id)):
			t.Errorf("parse(%q): id %v %d, want %d", tc.line, got.HasID, got.ID, tc.want.id)
		}
	}
}

// TestParseExecLineReuse checks that a parser reused across lines (as the
// readers do) does not leak one line's body into the next.
func TestParseExecLineReuse(t *testing.T) {
	var p logline.JSONParser
	lines := []string{
		`{"t":"` + testutil.TsAt(0) + `","s":"stdout","d":"first\nwith an escape and more bytes"}`,
		`{"t":"` + testutil.TsAt(0) + `","s":"stdout","d":"b\n"}`,
		`{"t":"` + testutil.TsAt(0) + `","s":"stdout","d":"/w==","e":"b64"}`,
		`{"t":"` + testutil.TsAt(0) + `","s":"stdout","d":"plain"}`,
		`{"t":"` + testutil.TsAt(0) + `","s":"stdout","d":"YWJj","e":"b64"}`,
	}
	want := []string{"first\nwith an escape and more bytes", "b\n", "\xff", "plain", "abc"}
	for i, l := range lines {
		e, ok := testutil.ParseExec(&p, []byte(l))
		if !ok || string(e.Body) != want[i] {
			t.Errorf("line %d: %q, %v; want %q", i, e.Body, ok, want[i])
		}
	}
}

func TestParseRFC3339(t *testing.T) {
	for _, s := range []string{
		"2026-05-01T10:00:00Z",
		"2026-05-01T10:00:00.1Z",
		"2026-05-01T10:00:00.123Z",
		"2026-05-01T10:00:00.123456789Z",
		"2026-05-01T12:00:00+02:00",
		"2026-05-01T05:30:00.5-04:30",
		"2024-02-29T23:59:59.999999999Z",
		"2000-02-29T00:00:00Z",
		"1970-01-01T00:00:00Z",
		"1969-12-31T23:59:59.5Z",
		"2261-12-31T23:59:59Z",
		"1678-01-01T00:00:00Z",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", s, err)
		}
		got, ok := logline.ParseRFC3339([]byte(s))
		if !ok || got != logline.TimeOf(want) {
			t.Errorf("parseRFC3339(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	// RFC 3339 allows a lower-case t and z (time.Parse does not).
	if got, ok := logline.ParseRFC3339([]byte("2026-05-01t10:00:00z")); !ok || got != testutil.NsAt(0) {
		t.Errorf("lower case: %v, %v", got, ok)
	}
	// More than nine fractional digits: kept to the nanosecond.
	if got, ok := logline.ParseRFC3339([]byte("2026-05-01T10:00:00.1234567891234Z")); !ok || got != testutil.PlusNs(testutil.NsAt(0), 123456789) {
		t.Errorf("12-digit fraction: %v, %v", got, ok)
	}
	for _, s := range []string{
		"", "2026-05-01", "2026-05-01T10:00:00", "2026-05-01T10:00Z", "2026-13-01T10:00:00Z",
		"2026-05-32T10:00:00Z", "2026-02-29T10:00:00Z", "1900-02-29T10:00:00Z", "2026-05-01T24:00:00Z",
		"2026-05-01T10:60:00Z", "2026-05-01T10:00:61Z", "2026-05-01T10:00:00.Z", "2026-05-01T10:00:00+2:00",
		"2026-05-01T10:00:00+0200", "2026-05-01T10:00:00 Z", "2026-05-01T10:00:00ZZ", "２026-05-01T10:00:00Z",
		"-026-05-01T10:00:00Z",
	} {
		if got, ok := logline.ParseRFC3339([]byte(s)); ok {
			t.Errorf("parseRFC3339(%q) = %v, want failure", s, got)
		}
	}
}

// TestParseRFC3339OutOfRange: every RFC 3339 time, years 0000 to 9999
// included (int64 nanoseconds stop at 1678 and 2262), is kept exact.
func TestParseRFC3339OutOfRange(t *testing.T) {
	for _, s := range []string{"9999-12-31T23:59:59Z", "2300-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1600-06-01T00:00:00+01:00", "0000-01-01T00:00:00Z", "0000-01-01T05:00:00+05:00", "9999-12-31T23:59:59.999999999Z"} {
		got, ok := logline.ParseRFC3339([]byte(s))
		want, _ := time.Parse(time.RFC3339, s)
		if !ok || got != logline.TimeOf(want) {
			t.Errorf("parseRFC3339(%q) = %v, %v; want %v", s, got, ok, want.UTC())
		}
	}
}

func TestParseTextLine(t *testing.T) {
	for _, tc := range []struct {
		line, body string
		kind       logline.TextStamp
		t          logline.Time // StampRFC3339
		up         int64        // StampUptime
	}{
		{testutil.TsAt(0) + " hello", "hello", logline.StampRFC3339, testutil.NsAt(0), 0},
		{"2026-05-01T10:00:00Z body", "body", logline.StampRFC3339, testutil.NsAt(0), 0}, // exactly 20 characters
		{"2026-05-01T10:00:00.123456789Z \t  spaced", "spaced", logline.StampRFC3339, testutil.PlusNs(testutil.NsAt(0), 123456789), 0},
		{"  " + testutil.TsAt(5) + "\tleading blanks", "leading blanks", logline.StampRFC3339, testutil.NsAt(5), 0},
		{testutil.TsAt(0), "", logline.StampRFC3339, testutil.NsAt(0), 0},
		{"\x1b[2m" + testutil.TsAt(7) + "\x1b[0m colored stamp", "colored stamp", logline.StampRFC3339, testutil.NsAt(7), 0},
		{"2026-05-01T12:00:00+02:00 offsets are not rule 1", "2026-05-01T12:00:00+02:00 offsets are not rule 1", logline.StampInherited, logline.Time{}, 0},
		{"2026-05-01T10:00Z short", "2026-05-01T10:00Z short", logline.StampInherited, logline.Time{}, 0},
		{"2026-13-45T10:00:00.000Z invalid", "2026-13-45T10:00:00.000Z invalid", logline.StampInherited, logline.Time{}, 0},
		{"xxxxxxxxxxxxxxxxxxxxxxxxZ word", "xxxxxxxxxxxxxxxxxxxxxxxxZ word", logline.StampInherited, logline.Time{}, 0},
		{"[    0.000000] Linux version", "[    0.000000] Linux version", logline.StampUptime, logline.Time{}, 0},
		{"[ 12.345678] eth0: up", "[ 12.345678] eth0: up", logline.StampUptime, logline.Time{}, 12345678000},
		{"[12.5] short", "[12.5] short", logline.StampUptime, logline.Time{}, 12500000000},
		{"[123456.000001]", "[123456.000001]", logline.StampUptime, logline.Time{}, 123456000001000},
		{"\x1b[32m[    1.000000]\x1b[0m ok", "[    1.000000] ok", logline.StampUptime, logline.Time{}, 1e9},
		{"[ 12.] no fraction", "[ 12.] no fraction", logline.StampInherited, logline.Time{}, 0},
		{"[ 12.5 unterminated", "[ 12.5 unterminated", logline.StampInherited, logline.Time{}, 0},
		{"[ abc] not a stamp", "[ abc] not a stamp", logline.StampInherited, logline.Time{}, 0},
		{" [ 1.0] not at the start", " [ 1.0] not at the start", logline.StampInherited, logline.Time{}, 0},
		{"plain continuation", "plain continuation", logline.StampInherited, logline.Time{}, 0},
		{"bytes \xff\xfe kept", "bytes \xff\xfe kept", logline.StampInherited, logline.Time{}, 0},
		{"\x1b[1;31merror\x1b[0m: \x1b]0;title\x07failed", "error: failed", logline.StampInherited, logline.Time{}, 0},
	} {
		line := []byte(tc.line)
		tl := logline.ParseTextLine(line)
		body := line[tl.Body:tl.N]
		if string(body) != tc.body || tl.Kind != tc.kind || tl.T != tc.t || tl.Up != tc.up {
			t.Errorf("parseTextLine(%q) = %q, %d, %v, %d; want %q, %d, %v, %d", tc.line, body, tl.Kind, tl.T, tl.Up, tc.body, tc.kind, tc.t, tc.up)
		}
	}
}

// FuzzParseLineAt: the parse that finds a line's end as it parses agrees
// with finding the newline first and parsing the line: where it accepts
// the line at the start of a buffer, its length is up to the first
// newline, and the entry is the one parse gives for that line.
func FuzzParseLineAt(f *testing.F) {
	ok := `{"t":"2026-05-01T10:00:00.123Z","s":"stdout","d":"hi\n","id":7}`
	f.Add([]byte(ok + "\n" + ok + "\n"))
	f.Add([]byte(`{"t":"2026-05-01T10:00:00Z` + "\n" + `","s":"stdout","d":"x"}` + "\n"))
	f.Add([]byte(`{"t":"2026-05-01T10:00:00Z","s":"std` + "\n" + `out","d":"x"}` + "\n"))
	f.Add([]byte(`{"t":"2026-05-01T10:00:00Z","s":"stdout","d":"x` + "\n" + `"}` + "\n"))
	f.Add([]byte(ok + "x\n"))
	f.Add([]byte(ok + " \n"))
	f.Add([]byte(ok))
	f.Add([]byte(`{"t":"2026-05-01T10:00:00Z","s":"stderr","d":"/w==","e":"b64","id":null}` + "\n"))
	f.Fuzz(func(t *testing.T, buf []byte) {
		var fused, plain logline.JSONParser
		for pos := 0; pos < len(buf); {
			var e logline.Entry
			n, ok := fused.ParseLineAt(buf[pos:], &e)
			nl := bytes.IndexByte(buf[pos:], '\n')
			if ok {
				if nl < 0 || n != nl+1 {
					t.Fatalf("at %d: accepted %d bytes, the line is %d with its newline", pos, n, nl+1)
				}
				stats, utf8 := e.Decoded()
				got := testutil.ExecLine{Time: e.Time, Source: e.Source, HasID: e.HasID, ID: e.ID, Body: bytes.Clone(e.Body), B64: !utf8, Stats: stats}
				want, wok := testutil.ParseExec(&plain, bytes.Clone(buf[pos:pos+nl]))
				if !wok {
					t.Fatalf("at %d: accepted %q, which parse rejects", pos, buf[pos:pos+nl])
				}
				if got.Time != want.Time || got.Source != want.Source || got.HasID != want.HasID || got.ID != want.ID ||
					!bytes.Equal(got.Body, want.Body) || got.B64 != want.B64 || got.Stats != want.Stats {
					t.Fatalf("at %d: %+v, parse gives %+v", pos, got, want)
				}
			}
			if nl < 0 {
				break
			}
			pos += nl + 1
		}
	})
}
