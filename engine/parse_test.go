package engine

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// entriesOf returns the entries of the stream of mask over the sandbox's
// files as they are now, from the start, with their bodies copied.
func entriesOf(t testing.TB, sb *Sandbox, mask SourceMask) []Entry {
	t.Helper()
	files, err := chain.OpenFileSet(sb.table)
	if err != nil {
		t.Fatal(err)
	}
	defer files.Release()
	var m chain.Merger
	if err := m.Reset(files, mask, State{}); err != nil {
		t.Fatal(err)
	}
	var out []Entry
	for {
		e, ok := m.Next()
		if !ok {
			break
		}
		if mask.Has(e.Source) {
			c := *e
			c.Body = append([]byte(nil), e.Body...)
			out = append(out, c)
		}
	}
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseExecLine(t *testing.T) {
	t0 := nsAt(0)
	type want struct {
		time  Time
		src   Source
		id    int64 // -1: none
		body  string
		valid bool
	}
	ok := func(src Source, body string, id int64) want { return want{t0, src, id, body, true} }
	bad := want{}
	T := `"` + tsAt(0) + `"`
	for _, tc := range []struct {
		line string
		want want
	}{
		{`{"t":` + T + `,"s":"stdout","d":"hi\n","id":7}`, ok(SourceStdout, "hi\n", 7)},
		{`{"t":` + T + `,"s":"stderr","d":"e"}`, ok(SourceStderr, "e", -1)},
		{`{"t":` + T + `,"s":"output","d":""}`, ok(SourceOutput, "", -1)},
		{`{"t":` + T + `,"s":"system","d":"started"}`, ok(SourceSystem, "started", -1)},
		{`{"t":` + T + `,"s":"stdout"}`, ok(SourceStdout, "", -1)}, // d defaults to empty
		{`{"s":"stdout","t":` + T + `,"id":null,"d":"x"}`, ok(SourceStdout, "x", -1)},
		{` { "t" : ` + T + ` , "s" : "stdout" , "d" : "ws" } `, ok(SourceStdout, "ws", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"x","unknown":{"a":[1,2.5e3,-0.1,true,false,null,"s"]}}`, ok(SourceStdout, "x", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"x","id":18446744073709551615}`, ok(SourceStdout, "x", 1<<63-1)}, // checked below
		{`{"t":` + T + `,"s":"stdout","d":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00"}`, ok(SourceStdout, "\"\\/\b\f\n\r\tAé€😀", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"lone \ud800 and \udc00 surrogates"}`, ok(SourceStdout, "lone \uFFFD and \uFFFD surrogates", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"raw é ✓ 😀"}`, ok(SourceStdout, "raw é ✓ 😀", -1)},
		{"{\"t\":" + T + ",\"s\":\"stdout\",\"d\":\"bad \xff\xfe utf8 \xe2\x82\"}", ok(SourceStdout, "bad \uFFFD\uFFFD utf8 \uFFFD\uFFFD", -1)},
		{"{\"t\":" + T + ",\"s\":\"stdout\",\"d\":\"esc \\n then bad \xc3\"}", ok(SourceStdout, "esc \n then bad \uFFFD", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"aGkK","e":"b64"}`, ok(SourceStdout, "hi\n", -1)},
		{`{"t":` + T + `,"s":"stdout","e":"b64","d":"/wA="}`, ok(SourceStdout, "\xff\x00", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"not base64!","e":"b64"}`, ok(SourceStdout, "not base64!", -1)},
		{`{"t":` + T + `,"s":"stdout","d":"aGk","e":"b64"}`, ok(SourceStdout, "aGk", -1)}, // unpadded: not standard base64
		{`{"t":` + T + `,"s":"stdout","d":"aGkK","e":"utf8"}`, ok(SourceStdout, "aGkK", -1)},
		{`{"t":"2026-05-01T12:00:00+02:00","s":"stdout","d":"x"}`, ok(SourceStdout, "x", -1)},
		{`{"t":"2026-05-01T05:30:00.000-04:30","s":"stdout","d":"x"}`, ok(SourceStdout, "x", -1)},

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
	} {
		var p logline.JSONParser
		got, gotOK := parseExec(&p, []byte(tc.line))
		if gotOK != tc.want.valid {
			t.Errorf("parse(%q): ok = %v, want %v", tc.line, gotOK, tc.want.valid)
			continue
		}
		if !gotOK {
			continue
		}
		if string(got.body) != tc.want.body || got.source != tc.want.src || got.time != tc.want.time {
			t.Errorf("parse(%q) = {t %v s %v d %q}, want {t %v s %v d %q}", tc.line, got.time, got.source, got.body, tc.want.time, tc.want.src, tc.want.body)
		}
		switch {
		case strings.Contains(tc.line, "18446744073709551615"):
			if !got.hasID || got.id != 1<<64-1 {
				t.Errorf("parse(%q): id %v %d, want max uint64", tc.line, got.hasID, got.id)
			}
		case tc.want.id < 0 && got.hasID, tc.want.id >= 0 && (!got.hasID || got.id != uint64(tc.want.id)):
			t.Errorf("parse(%q): id %v %d, want %d", tc.line, got.hasID, got.id, tc.want.id)
		}
	}
}

// TestParseExecLineReuse checks that a parser reused across lines (as the
// readers do) does not leak one line's body into the next.
func TestParseExecLineReuse(t *testing.T) {
	var p logline.JSONParser
	lines := []string{
		`{"t":"` + tsAt(0) + `","s":"stdout","d":"first\nwith an escape and more bytes"}`,
		`{"t":"` + tsAt(0) + `","s":"stdout","d":"b\n"}`,
		`{"t":"` + tsAt(0) + `","s":"stdout","d":"/w==","e":"b64"}`,
		`{"t":"` + tsAt(0) + `","s":"stdout","d":"plain"}`,
		`{"t":"` + tsAt(0) + `","s":"stdout","d":"YWJj","e":"b64"}`,
	}
	want := []string{"first\nwith an escape and more bytes", "b\n", "\xff", "plain", "abc"}
	for i, l := range lines {
		e, ok := parseExec(&p, []byte(l))
		if !ok || string(e.body) != want[i] {
			t.Errorf("line %d: %q, %v; want %q", i, e.body, ok, want[i])
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
		if !ok || got != TimeOf(want) {
			t.Errorf("parseRFC3339(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	// RFC 3339 allows a lower-case t and z (time.Parse does not).
	if got, ok := logline.ParseRFC3339([]byte("2026-05-01t10:00:00z")); !ok || got != nsAt(0) {
		t.Errorf("lower case: %v, %v", got, ok)
	}
	// More than nine fractional digits: kept to the nanosecond.
	if got, ok := logline.ParseRFC3339([]byte("2026-05-01T10:00:00.1234567891234Z")); !ok || got != plusNs(nsAt(0), 123456789) {
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
		if !ok || got != TimeOf(want) {
			t.Errorf("parseRFC3339(%q) = %v, %v; want %v", s, got, ok, want.UTC())
		}
	}
}

func TestParseTextLine(t *testing.T) {
	for _, tc := range []struct {
		line, body string
		kind       logline.TextStamp
		t          Time  // StampRFC3339
		up         int64 // StampUptime
	}{
		{tsAt(0) + " hello", "hello", logline.StampRFC3339, nsAt(0), 0},
		{"2026-05-01T10:00:00Z body", "body", logline.StampRFC3339, nsAt(0), 0}, // exactly 20 characters
		{"2026-05-01T10:00:00.123456789Z \t  spaced", "spaced", logline.StampRFC3339, plusNs(nsAt(0), 123456789), 0},
		{"  " + tsAt(5) + "\tleading blanks", "leading blanks", logline.StampRFC3339, nsAt(5), 0},
		{tsAt(0), "", logline.StampRFC3339, nsAt(0), 0},
		{"\x1b[2m" + tsAt(7) + "\x1b[0m colored stamp", "colored stamp", logline.StampRFC3339, nsAt(7), 0},
		{"2026-05-01T12:00:00+02:00 offsets are not rule 1", "2026-05-01T12:00:00+02:00 offsets are not rule 1", logline.StampInherited, Time{}, 0},
		{"2026-05-01T10:00Z short", "2026-05-01T10:00Z short", logline.StampInherited, Time{}, 0},
		{"2026-13-45T10:00:00.000Z invalid", "2026-13-45T10:00:00.000Z invalid", logline.StampInherited, Time{}, 0},
		{"xxxxxxxxxxxxxxxxxxxxxxxxZ word", "xxxxxxxxxxxxxxxxxxxxxxxxZ word", logline.StampInherited, Time{}, 0},
		{"[    0.000000] Linux version", "[    0.000000] Linux version", logline.StampUptime, Time{}, 0},
		{"[ 12.345678] eth0: up", "[ 12.345678] eth0: up", logline.StampUptime, Time{}, 12345678000},
		{"[12.5] short", "[12.5] short", logline.StampUptime, Time{}, 12500000000},
		{"[123456.000001]", "[123456.000001]", logline.StampUptime, Time{}, 123456000001000},
		{"\x1b[32m[    1.000000]\x1b[0m ok", "[    1.000000] ok", logline.StampUptime, Time{}, 1e9},
		{"[ 12.] no fraction", "[ 12.] no fraction", logline.StampInherited, Time{}, 0},
		{"[ 12.5 unterminated", "[ 12.5 unterminated", logline.StampInherited, Time{}, 0},
		{"[ abc] not a stamp", "[ abc] not a stamp", logline.StampInherited, Time{}, 0},
		{" [ 1.0] not at the start", " [ 1.0] not at the start", logline.StampInherited, Time{}, 0},
		{"plain continuation", "plain continuation", logline.StampInherited, Time{}, 0},
		{"bytes \xff\xfe kept", "bytes \xff\xfe kept", logline.StampInherited, Time{}, 0},
		{"\x1b[1;31merror\x1b[0m: \x1b]0;title\x07failed", "error: failed", logline.StampInherited, Time{}, 0},
	} {
		line := []byte(tc.line)
		tl := logline.ParseTextLine(line)
		body := line[tl.Body:tl.N]
		if string(body) != tc.body || tl.Kind != tc.kind || tl.T != tc.t || tl.Up != tc.up {
			t.Errorf("parseTextLine(%q) = %q, %d, %v, %d; want %q, %d, %v, %d", tc.line, body, tl.Kind, tl.T, tl.Up, tc.body, tc.kind, tc.t, tc.up)
		}
	}
}

// TestBadInputSkippedAndCounted: malformed JSON, unknown sources, bad
// times and empty lines are skipped and counted, and never stop the reader.
func TestBadInputSkippedAndCounted(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(
		jl(0, "stdout", "one\n"),
		"{not json\n",
		"\n",
		`{"t":"`+tsAt(1)+`","s":"bogus","d":"unknown source"}`+"\n",
		`{"t":"not a time","s":"stdout","d":"bad time"}`+"\n",
		"\n",
		jl(2, "stdout", "two\n"),
		`{"t":"`+tsAt(3)+`","s":"stdout","d":"x"} trailing`+"\n",
		jl(4, "stderr", "three\n"),
	)
	d.runtime(rl(5, "rt"), "", "")
	sb := d.open()
	if got := string(snap(t, sb, ViewStdout)); got != "one\ntwo\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := string(snap(t, sb, ViewStderr)); got != "three\n" {
		t.Errorf("stderr = %q", got)
	}
	want := chain.Counts{Malformed: 4, Empty: 4}
	for _, nv := range allViews {
		st, err := sb.Stat(nv.v)
		if err != nil {
			t.Fatal(err)
		}
		if nv.v.Mask.Has(SourceSystem) && st.Skipped != want {
			t.Errorf("Stat(%s).Skipped = %+v, want %+v", nv.name, st.Skipped, want)
		}
	}
	st, _ := sb.Stat(ViewStdout)
	if st.Skipped.Malformed != 4 {
		t.Errorf("Stat(stdout).Skipped = %+v, want 4 malformed", st.Skipped)
	}
}

// TestPartialTrailingLine: a trailing line without its newline is not
// consumed until it is completed.
func TestPartialTrailingLine(t *testing.T) {
	d := newSandboxDir(t)
	full := jl(1, "stdout", "second\n")
	d.exec(jl(0, "stdout", "first\n"), full[:20])
	d.runtime(rl(0, "rt one"))
	d.appendRaw(RuntimeLogName, rl(2, "rt partial")[:15])
	sb := d.open()
	fl := openFollower(t, sb, ViewMerged)
	r := sb.NewReader(ViewStdout, State{})
	defer r.Close()
	if got := string(drainReader(t, r, 100)); got != "first\n" {
		t.Fatalf("reader: %q", got)
	}
	if got := string(snap(t, sb, ViewStdout)); got != "first\n" {
		t.Fatalf("before completion: %q", got)
	}
	end, err := sb.EndState()
	if err != nil {
		t.Fatal(err)
	}
	wantEnd := logline.Pos{Gen: inodeOf(t, d.path(ExecLogName)), Offset: uint64(len(jl(0, "stdout", "first\n")))}
	if end.Cursor[logline.OriginExec] != wantEnd {
		t.Errorf("end cursor exec position %+v, want %+v (before the partial line)", end.Cursor[logline.OriginExec], wantEnd)
	}
	before := fl.read()

	d.appendRaw(ExecLogName, full[20:])
	d.appendRaw(RuntimeLogName, rl(2, "rt partial")[15:]+"\n")
	expireHold(sb)
	if got := string(snap(t, sb, ViewStdout)); got != "first\nsecond\n" {
		t.Errorf("after completion: %q", got)
	}
	if got := string(drainReader(t, r, 100)); got != "second\n" {
		t.Errorf("reader after completion: %q", got)
	}
	if got := string(readerAll(t, sb, ViewStdout, end)); got != "second\n" {
		t.Errorf("resumed from the end state: %q", got)
	}
	after := string(fl.next())
	if !strings.Contains(after, "stdout second") || !strings.Contains(after, "system rt partial") || strings.Contains(after, "first") {
		t.Errorf("follow: before %q, then %q", before, after)
	}
}

func TestBase64Bodies(t *testing.T) {
	d := newSandboxDir(t)
	raw := []byte{0xff, 0x00, 'a', '\n', 0xc3}
	d.exec(
		jlB64(0, "stdout", raw),
		jlB64(1, "stdout", []byte("text ✓\n")),
		xline{T: tsAt(2), S: "stdout", D: "not base64!\n", E: "b64"}.String(),
	)
	sb := d.open()
	want := string(raw) + "text ✓\n" + "not base64!\n"
	if got := string(snap(t, sb, ViewStdout)); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	js := parseJSONL(t, snap(t, sb, ViewMergedJSON))
	if len(js) != 3 {
		t.Fatalf("%d entries", len(js))
	}
	if js[0].E != "b64" || js[0].D != base64.StdEncoding.EncodeToString(raw) {
		t.Errorf("invalid UTF-8 body: %+v, want e b64 and d its base64", js[0])
	}
	for _, j := range js[1:] {
		if j.E != "" || strings.Contains(strings.Join(j.Keys, ","), "e") {
			t.Errorf("UTF-8 body rendered with e: %+v", j)
		}
	}
	if js[1].D != "text ✓\n" || js[2].D != "not base64!\n" {
		t.Errorf("bodies %q %q", js[1].D, js[2].D)
	}
}

// TestInvalidUTF8 covers both rules: inside an exec.log JSON string invalid
// UTF-8 becomes U+FFFD; in a text log it is kept as bytes (merged.jsonl
// then gives the body in base64 with "e":"b64").
func TestInvalidUTF8(t *testing.T) {
	d := newSandboxDir(t)
	d.exec("{\"t\":\"" + tsAt(0) + "\",\"s\":\"stdout\",\"d\":\"a\xffb\xe2\x82c\\n\"}\n")
	d.runtime(rl(1, "rt \xff\xfe bytes"))
	d.kernel("[    0.000000] k \xc3")
	sb := d.open()
	// One U+FFFD per invalid byte, as encoding/json decodes it.
	if got := string(snap(t, sb, ViewStdout)); got != "a\uFFFDb\uFFFD\uFFFDc\n" {
		t.Errorf("stdout = %q", got)
	}
	sys := snap(t, sb, ViewSystem)
	// The text view writes them \xNN (SPEC §3), the JSON view keeps them.
	if !bytes.Contains(sys, []byte(` system rt \xff\xfe bytes`+"\n")) || !bytes.Contains(sys, []byte(`] k \xc3`+"\n")) {
		t.Errorf("system view does not escape the bytes: %q", sys)
	}
	var sawRT, sawK bool
	for _, j := range parseJSONL(t, snap(t, sb, ViewMergedJSON)) {
		switch {
		case j.S == "stdout":
			if j.E != "" || j.D != "a\uFFFDb\uFFFD\uFFFDc\n" {
				t.Errorf("exec entry %+v", j)
			}
		case strings.HasPrefix(j.body(), "rt "):
			sawRT = j.E == "b64" && j.body() == "rt \xff\xfe bytes\n"
		default:
			sawK = j.E == "b64" && j.body() == "[    0.000000] k \xc3\n"
		}
	}
	if !sawRT || !sawK {
		t.Errorf("text lines with invalid UTF-8 are not in base64 in merged.jsonl (runtime %v, kernel %v)", sawRT, sawK)
	}
}

// TestLongLineSkipped: a 20 MiB line is skipped and counted, without being
// loaded whole, and the lines after it still parse; while it is the
// unterminated last line it is not consumed.
func TestLongLineSkipped(t *testing.T) {
	d := newSandboxDir(t)
	long := `{"t":"` + tsAt(1) + `","s":"stdout","d":"` + strings.Repeat("x", 20<<20) + `"}`
	d.exec(jl(0, "stdout", "before\n"), long[:10<<20])
	sb := d.open()
	if got := string(snap(t, sb, ViewStdout)); got != "before\n" {
		t.Fatalf("stdout = %q", got)
	}
	d.appendRaw(ExecLogName, long[10<<20:]+"\n"+jl(2, "stdout", "after\n"))
	d.runtime(rl(3, "runtime after"))
	expireHold(sb)
	if got := string(snap(t, sb, ViewStdout)); got != "before\nafter\n" {
		t.Errorf("stdout = %q", got)
	}
	st, err := sb.Stat(ViewMerged)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped.TooLong != 1 {
		t.Errorf("Skipped = %+v, want 1 too long", st.Skipped)
	}
	if got := splitLines(snap(t, sb, ViewMerged)); len(got) != 3 {
		t.Errorf("merged: %s", quoteLines(got))
	}
	fresh := d.open()
	if st, _ := fresh.Stat(ViewStdout); st.Skipped.TooLong != 1 || st.Size != int64(len("before\nafter\n")) {
		t.Errorf("fresh Home: %+v", st)
	}

	// The scanner itself never holds more than the limit and a chunk.
	files, err := chain.OpenFileSet(sb.table)
	if err != nil {
		t.Fatal(err)
	}
	defer files.Release()
	var s chain.LineScanner
	s.Reset(files.Chain, 0, 0)
	var n int
	for {
		line, _, ok := s.Next()
		if !ok {
			break
		}
		n++
		if len(line) > logline.MaxLineLen+1 {
			t.Fatalf("a line of %d bytes", len(line))
		}
	}
	if n != 2 || s.TooLong != 1 {
		t.Errorf("%d lines, %d too long; want 2 and 1", n, s.TooLong)
	}
	if s.BufferCap() > logline.MaxLineLen+logline.ReadChunk {
		t.Errorf("scanner buffer of %d bytes for a %d-byte line", s.BufferCap(), len(long))
	}
}

// TestLine16MiBParsed: SPEC §1 says a line limit of at least 16 MiB must
// work, and MaxLineLen documents itself as the longest line that is parsed:
// a line of exactly MaxLineLen bytes (16 MiB) must be parsed, not skipped.
func TestLine16MiBParsed(t *testing.T) {
	d := newSandboxDir(t)
	head := `{"t":"` + tsAt(0) + `","s":"stdout","d":"`
	line := head + strings.Repeat("a", logline.MaxLineLen-len(head)-2) + `"}`
	if len(line) != logline.MaxLineLen || logline.MaxLineLen < 16<<20 {
		t.Fatalf("line of %d bytes", len(line))
	}
	d.exec(line+"\n", jl(1, "stdout", "after\n"))
	st, err := d.open().Stat(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(logline.MaxLineLen - len(head) - 2 + len("after\n")); st.Size != want || st.Skipped.TooLong != 0 {
		t.Errorf("a line of exactly %d bytes: stdout size %d (want %d), skipped %+v", len(line), st.Size, want, st.Skipped)
	}
}

// TestSkippedCountSurvivesIndexExtension: the lines skipped for length are
// counted in Stat also after the index was extended incrementally, as a
// fresh read of the same files counts them.
func TestSkippedCountSurvivesIndexExtension(t *testing.T) {
	d := newSandboxDir(t)
	long := `{"t":"` + tsAt(0) + `","s":"stdout","d":"` + strings.Repeat("x", logline.MaxLineLen) + "\"}\n"
	var b strings.Builder
	b.WriteString(long)
	for i := range 2000 { // past a checkpoint
		b.WriteString(jl(int64(i+1), "stdout", fmt.Sprintf("line %d with some padding to fill\n", i)))
	}
	d.exec(b.String())
	sb := d.open()
	st, err := sb.Stat(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped.TooLong != 1 {
		t.Fatalf("before growth: %+v", st.Skipped)
	}
	if n := len(sb.indexes[MaskAll].Cps); n < 2 {
		t.Fatalf("%d checkpoints: the test needs one after the long line", n)
	}
	d.exec(jl(5000, "stdout", "appended\n"))
	expireHold(sb)
	st, _ = sb.Stat(ViewStdout)
	fresh, _ := d.open().Stat(ViewStdout)
	if st.Skipped != fresh.Skipped {
		t.Errorf("after growth: Skipped %+v, a fresh Home says %+v", st.Skipped, fresh.Skipped)
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
			var e Entry
			n, ok := fused.ParseLineAt(buf[pos:], &e)
			nl := bytes.IndexByte(buf[pos:], '\n')
			if ok {
				if nl < 0 || n != nl+1 {
					t.Fatalf("at %d: accepted %d bytes, the line is %d with its newline", pos, n, nl+1)
				}
				stats, utf8 := e.Decoded()
				got := execLine{time: e.Time, source: e.Source, hasID: e.HasID, id: e.ID, body: bytes.Clone(e.Body), b64: !utf8, stats: stats}
				want, wok := parseExec(&plain, bytes.Clone(buf[pos:pos+nl]))
				if !wok {
					t.Fatalf("at %d: accepted %q, which parse rejects", pos, buf[pos:pos+nl])
				}
				if got.time != want.time || got.source != want.source || got.hasID != want.hasID || got.id != want.id ||
					!bytes.Equal(got.body, want.body) || got.b64 != want.b64 || got.stats != want.stats {
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
