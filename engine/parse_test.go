package engine

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

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

// TestBadInputSkippedAndCounted: malformed JSON, unknown sources, bad
// times, a known key twice and empty lines are skipped and counted, and never stop the reader.
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
		`{"t":"bad","t":"`+tsAt(3)+`","s":"stdout","d":"duplicate key"}`+"\n",
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
	want := chain.Counts{Malformed: 5, Empty: 4}
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
	if st.Skipped.Malformed != 5 {
		t.Errorf("Stat(stdout).Skipped = %+v, want 5 malformed", st.Skipped)
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
	// The text view writes them \xNN (docs/formats.md, "Text-view escaping"), the JSON view keeps them.
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

// TestLine16MiBParsed: a line limit of at least 16 MiB must work
// (docs/formats.md, "Bad input"), and MaxLineLen documents itself as the longest line that is parsed:
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
