package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// resumeAfter returns merged.jsonl after cursor c (as a string).
func resumeAfter(t testing.TB, sb *Sandbox, v View, c string) ([]byte, error) {
	t.Helper()
	cur, err := ParseCursor(c)
	if err != nil {
		return nil, err
	}
	st, err := sb.StateAt(cur)
	if err != nil {
		return nil, err
	}
	return readerAll(t, sb, v, st), nil
}

// TestCursorPointsIntoFile: a cursor decodes to the inode and the byte
// offset just past the entry's line in each origin.
func TestCursorPointsIntoFile(t *testing.T) {
	d := newSandboxDir(t)
	l1, l2 := jl(0, "stdout", "a\n"), jl(2, "stderr", "b\n")
	d.exec(l1, "{malformed}\n", l2)
	r1 := rl(1, "runtime one")
	d.runtime(r1)
	k1 := rl(3, "kernel one")
	d.kernel(k1)
	execIno := inodeOf(t, d.path(ExecLogName)) // os.Stat
	rtIno := inodeOf(t, d.path(RuntimeLogName))
	kIno := inodeOf(t, d.path(KernelLogName))
	e1 := pos(execIno, uint64(len(l1)))
	e2 := pos(execIno, uint64(len(l1)+len("{malformed}\n")+len(l2)))
	rp := pos(rtIno, uint64(len(r1)+1))
	kp := pos(kIno, uint64(len(k1)+1))
	want := []Cursor{{e1}, {e1, rp}, {e2, rp}, {e2, rp, kp}}
	js := parseJSONL(t, snap(t, d.open(), ViewMergedJSON))
	if len(js) != len(want) {
		t.Fatalf("%d entries", len(js))
	}
	for i, j := range js {
		c, err := ParseCursor(j.Cursor)
		if err != nil {
			t.Fatal(err)
		}
		if c != want[i] {
			t.Errorf("entry %d (%q): cursor %+v, want %+v", i, j.D, c, want[i])
		}
		if c.String() != j.Cursor {
			t.Errorf("entry %d: cursor does not round-trip", i)
		}
	}
}

// TestResumeFromSecondEntry: resuming from the 2nd entry's cursor yields
// only the 3rd.
func TestResumeFromSecondEntry(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "one\n"), jl(1, "stderr", "two\n"), jl(2, "output", "three\n"))
	sb := d.open()
	js := parseJSONL(t, snap(t, sb, ViewMergedJSON))
	if len(js) != 3 {
		t.Fatalf("%d entries", len(js))
	}
	got, err := resumeAfter(t, sb, ViewMergedJSON, js[1].Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if after := parseJSONL(t, got); len(after) != 1 || !equalJentry(after[0], js[2]) {
		t.Fatalf("after the 2nd: %+v", after)
	}
	for _, v := range []namedView{{"stdout", ViewStdout}, {"output", ViewOutput}} {
		if b, _ := resumeAfter(t, sb, v.v, js[1].Cursor); (v.name == "output") != (string(b) == "three\n") || (v.name == "stdout" && len(b) != 0) {
			t.Errorf("%s after the 2nd: %q", v.name, b)
		}
	}
}

// TestResumeAcrossOrigins: in a snapshot (exec a@10:00, c@10:02; runtime
// b@10:01), resuming from b's cursor yields only c.
func TestResumeAcrossOrigins(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "a\n"), jl(120000, "stdout", "c\n"))
	d.runtime(rl(60000, "b"))
	sb := d.open()
	js := parseJSONL(t, snap(t, sb, ViewMergedJSON))
	if got := bodies(js); strings.Join(got, "") != "a\nb\nc\n" {
		t.Fatalf("merged.jsonl bodies %q", got)
	}
	got, err := resumeAfter(t, sb, ViewMergedJSON, js[1].Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if b := bodies(parseJSONL(t, got)); len(b) != 1 || b[0] != "c\n" {
		t.Fatalf("after b: %q", b)
	}
	merged, _ := resumeAfter(t, sb, ViewMerged, js[1].Cursor)
	if string(merged) != tsAt(120000)+" stdout c\n" {
		t.Errorf("merged after b: %q", merged)
	}
}

// TestResumeFromEveryCursor: on a random corpus with rotations, resuming
// from any entry's cursor yields exactly the entries after it, byte for
// byte (cursors included), and from a cursor of the middle of a view the
// other views give their own rest.
func TestResumeFromEveryCursor(t *testing.T) {
	d := newSandboxDir(t)
	g := newCorpusGen(d, 11)
	g.RotateAt = 16 << 10
	g.write(50<<10, true)
	sb := d.open()
	full := snap(t, sb, ViewMergedJSON)
	lines := bytes.SplitAfter(full, []byte{'\n'})
	lines = lines[:len(lines)-1]
	js := parseJSONL(t, full)
	rng := rand.New(rand.NewPCG(5, 5))
	for n := 0; n < 40; n++ {
		i := rng.IntN(len(js))
		if n == 0 {
			i = len(js) - 1
		}
		got, err := resumeAfter(t, sb, ViewMergedJSON, js[i].Cursor)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		compareBytes(t, fmt.Sprintf("resumed after entry %d of %d", i, len(js)), got, bytes.Join(lines[i+1:], nil))
	}
	// The model says which text entries come after a cursor.
	m := buildModel(t, d.logs)
	es, curs := m.merge(MaskAll)
	for n := 0; n < 10; n++ {
		i := rng.IntN(len(es))
		st, err := sb.StateAt(curs[i])
		if err != nil {
			t.Fatal(err)
		}
		got := readerAll(t, sb, ViewMerged, st)
		var want []byte
		for _, e := range es[i+1:] {
			want = append(want, modelText(e)...)
		}
		compareBytes(t, fmt.Sprintf("merged after entry %d", i), got, want)
	}
}

// TestResumeInheritsTimestamp: a cursor in the middle of unstamped text
// lines resumes with the timestamp they inherit, even when the stamped
// line is far back.
func TestResumeInheritsTimestamp(t *testing.T) {
	d := newSandboxDir(t)
	var rt strings.Builder
	rt.WriteString(rl(1000, "stamped") + "\n")
	for i := range 3000 { // about 100 KiB without a stamp
		fmt.Fprintf(&rt, "unstamped continuation line %04d\n", i)
	}
	d.appendRaw(RuntimeLogName, rt.String())
	d.kernel("[    2.000000] up", strings.Repeat("k", 100<<10), "unstamped kernel line")
	d.exec(jl(0, "stdout", "exec\n"), jl(2000, "stdout", "exec later\n"))
	sb := d.open()
	full := snap(t, sb, ViewMergedJSON)
	js := parseJSONL(t, full)
	for i := len(js) - 6; i < len(js)-1; i++ {
		got, err := resumeAfter(t, sb, ViewMergedJSON, js[i].Cursor)
		if err != nil {
			t.Fatal(err)
		}
		compareJSONL(t, fmt.Sprintf("after entry %d", i), parseJSONL(t, got), js[i+1:])
	}
	// StateAt gives the same state as the merge had.
	for o := logline.OriginRuntime; o < logline.NumOrigins; o++ {
		end, _ := sb.EndState()
		st, err := sb.StateAt(end.Cursor)
		if err != nil {
			t.Fatal(err)
		}
		if st.Prev[o] != end.Prev[o] {
			t.Errorf("%v: StateAt gives inherited time %v, the merge had %v", o, st.Prev[o], end.Prev[o])
		}
	}
}

// TestResumeAfterLongTextLine: a text line longer than the line limit is
// skipped, so the line after it inherits the time of the line before it;
// resuming from a cursor after that line must give the same time as
// reading through (StateAt finds the inherited time by reading backwards,
// and must step over the long line, not stop at it).
func TestResumeAfterLongTextLine(t *testing.T) {
	d := newSandboxDir(t)
	d.runtime(rl(1000, "stamped"), strings.Repeat("x", logline.MaxLineLen+1), "inherits the stamp", "so does this one")
	d.exec(jl(0, "stdout", "first\n"), jl(5000, "stdout", "last\n"))
	sb := d.open()
	js := parseJSONL(t, snap(t, sb, ViewMergedJSON))
	if got := bodies(js); strings.Join(got, "|") != "first\n|stamped\n|inherits the stamp\n|so does this one\n|last\n" {
		t.Fatalf("bodies %q", got)
	}
	got, err := resumeAfter(t, sb, ViewMergedJSON, js[2].Cursor)
	if err != nil {
		t.Fatal(err)
	}
	compareJSONL(t, "after the line that follows the long line", parseJSONL(t, got), js[3:])
}

// TestForeignCursorRejected: a cursor taken from another sandbox is
// rejected with ErrInvalidCursor before anything is read.
func TestForeignCursorRejected(t *testing.T) {
	home := newHomeDir(t)
	a, b := mkSandbox(t, home, "a"), mkSandbox(t, home, "b")
	a.exec(jl(0, "stdout", "a1\n"), jl(1, "stdout", "a2\n"))
	b.exec(jl(0, "stdout", "b1\n"), jl(1, "stdout", "b2\n"))
	h := openTestHome(t, home)
	sa, _ := h.Sandbox("a")
	sbb, _ := h.Sandbox("b")
	ca, err := sa.EndCursor()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sbb.StateAt(ca)
	if !errors.Is(err, ErrInvalidCursor) {
		t.Fatalf("StateAt(cursor of a) on b = %+v, %v; want ErrInvalidCursor", st, err)
	}
	if st != (State{}) {
		t.Errorf("a failed StateAt returned %+v", st)
	}
	if !strings.Contains(err.Error(), "invalid cursor") {
		t.Errorf("message %q", err)
	}
	// Its own cursor, and a cursor with only text positions, are fine.
	if _, err := sa.StateAt(ca); err != nil {
		t.Errorf("own cursor: %v", err)
	}
	if _, err := sbb.StateAt(Cursor{{}, {Gen: 12345, Offset: 9}}); err != nil {
		t.Errorf("foreign text position: %v (should resume from the start of runtime.log)", err)
	}
}

// TestCursorOutOfRetention: a cursor into a file that rotation dropped is
// invalid; one into a file still in the chain resumes across the rotations.
func TestCursorOutOfRetention(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "0\n"))
	sb := d.open()
	c0, _ := sb.EndCursor()
	for i := 1; i <= 4; i++ {
		d.rotate()
		d.exec(jl(int64(i), "stdout", fmt.Sprintf("%d\n", i)))
	}
	got, err := resumeAfter(t, sb, ViewStdout, c0.String())
	if err != nil || string(got) != "1\n2\n3\n4\n" {
		t.Fatalf("after 4 rotations: %q, %v", got, err)
	}
	d.rotate()
	d.exec(jl(5, "stdout", "5\n"))
	if _, err := sb.StateAt(c0); !errors.Is(err, ErrInvalidCursor) {
		t.Fatalf("after 5 rotations: %v, want ErrInvalidCursor", err)
	}
}

// TestEndCursorResumesToNothing: the end cursor, taken with skipped lines
// at the end, resumes to nothing in every view, and then to exactly what
// is appended.
func TestEndCursorResumesToNothing(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "a\n"), "{bad}\n", "\n")
	d.runtime(rl(1, "r"), "")
	d.kernel("[ 0.5] k")
	sb := d.open()
	c, err := sb.EndCursor()
	if err != nil {
		t.Fatal(err)
	}
	if c[logline.OriginExec].Offset != uint64(fileSize(t, d.path(ExecLogName))) {
		t.Errorf("end cursor %+v does not consume the trailing skipped lines", c)
	}
	for _, nv := range allViews {
		if b, err := resumeAfter(t, sb, nv.v, c.String()); err != nil || len(b) != 0 {
			t.Errorf("%s after the end cursor: %q, %v", nv.name, b, err)
		}
	}
	d.exec(jl(2, "stderr", "new\n"))
	if b, err := resumeAfter(t, sb, ViewMerged, c.String()); err != nil || string(b) != tsAt(2)+" stderr new\n" {
		t.Errorf("after appending: %q, %v", b, err)
	}
}

// TestTextCursorReplacedOrTruncated: a runtime position whose file was
// replaced, or truncated below it, resumes from the start of the new file.
func TestTextCursorReplacedOrTruncated(t *testing.T) {
	d := newSandboxDir(t)
	d.runtime(rl(0, "old one"), rl(1, "old two"))
	sb := d.open()
	c, _ := sb.EndCursor()
	if b, _ := resumeAfter(t, sb, ViewSystem, c.String()); len(b) != 0 {
		t.Fatalf("at the end: %q", b)
	}
	d.writeFile(RuntimeLogName, rl(2, "truncated and rewritten")+"\n") // same inode, shorter
	b, err := resumeAfter(t, sb, ViewSystem, c.String())
	if err != nil || string(b) != tsAt(2)+" system truncated and rewritten\n" {
		t.Errorf("after truncation: %q, %v", b, err)
	}
	if err := os.Remove(d.path(RuntimeLogName)); err != nil {
		t.Fatal(err)
	}
	d.runtime(rl(3, "replaced"), rl(4, "by a new file with more lines than before"))
	b, err = resumeAfter(t, sb, ViewSystem, c.String())
	if err != nil || string(b) != tsAt(3)+" system replaced\n"+tsAt(4)+" system by a new file with more lines than before\n" {
		t.Errorf("after replacement: %q, %v", b, err)
	}
}

// TestShortCursor: a cursor with only the exec position (as an older
// writer may produce) reads runtime and kernel from their start.
func TestShortCursor(t *testing.T) {
	d := newSandboxDir(t)
	l := jl(0, "stdout", "a\n")
	d.exec(l, jl(2, "stdout", "b\n"))
	d.runtime(rl(1, "r"))
	sb := d.open()
	c := encodeCursor(pos(inodeOf(t, d.path(ExecLogName)), uint64(len(l))))
	b, err := resumeAfter(t, sb, ViewMerged, c)
	if err != nil || string(b) != tsAt(1)+" system r\n"+tsAt(2)+" stdout b\n" {
		t.Errorf("%q, %v", b, err)
	}
}

// TestStateAtTime: the state just before the first merged entry at or
// after a time, checked against the model on a corpus whose origins are
// not sorted.
func TestStateAtTime(t *testing.T) {
	d := newSandboxDir(t)
	g := newCorpusGen(d, 21)
	g.write(120<<10, false)
	sb := d.open()
	m := buildModel(t, d.logs)
	es, curs := m.merge(MaskAll)
	rng := rand.New(rand.NewPCG(8, 8))
	times := []Time{plusNs(es[0].time, -1), es[0].time, plusNs(es[len(es)-1].time, 1), logline.MaxTime, MinTime}
	for range 25 {
		times = append(times, plusNs(es[rng.IntN(len(es))].time, rng.Int64N(3)-1))
	}
	for _, ns := range times {
		st, err := sb.StateAtTime(ns)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for i < len(es) && es[i].time.Less(ns) {
			i++
		}
		var want []byte
		for _, e := range es[i:] {
			want = append(want, modelText(e)...)
		}
		compareBytes(t, fmt.Sprintf("from %v", ns), readerAll(t, sb, ViewMerged, st), want)
		if i > 0 && i < len(es) && st.Cursor != curs[i-1] {
			t.Errorf("StateAtTime cursor %v, want the cursor of the entry before (%v)", st.Cursor, curs[i-1])
		}
	}
}

// TestResumeAfterMaxLengthTextLine: a stamped text line of exactly the line
// limit is parsed (at least 16 MiB must work: docs/formats.md, "Bad
// input"), so the unstamped lines after it inherit its time, also when
// resuming from a cursor after them (StateAt finds the inherited time by
// reading backwards). The cursors come from a scan, to spare rendering the
// 16 MiB body.
func TestResumeAfterMaxLengthTextLine(t *testing.T) {
	d := newSandboxDir(t)
	head := rl(1000, "")
	long := head + strings.Repeat("y", logline.MaxLineLen-len(head))
	d.runtime(rl(0, "early"), long, "unstamped A", "unstamped B")
	d.exec(jl(5000, "stdout", "last\n"))
	sb := d.open()
	sc := sb.NewScanner(Query{Mask: MaskAll})
	defer sc.Close()
	var after []Cursor
	var times []Time
	if err := sc.Next(func(e *Entry, st *State) error {
		after = append(after, st.Cursor)
		times = append(times, e.Time)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(after) != 5 || times[1] != nsAt(1000) || times[3] != nsAt(1000) {
		t.Fatalf("%d entries at %v: the 16 MiB line is not parsed", len(after), times)
	}
	got, err := resumeAfter(t, sb, ViewMergedJSON, after[2].String()) // after "unstamped A"
	if err != nil {
		t.Fatal(err)
	}
	js := parseJSONL(t, got)
	if len(js) != 2 || js[0].D != "unstamped B\n" || js[0].T != tsAt(1000) || js[1].D != "last\n" {
		t.Errorf("after the line that follows the 16 MiB line: %+v", js)
	}
}

// TestInheritedTime checks inheritedTime at every line end of a text file
// against the time a forward read gives the next unstamped line; the file
// has lines longer than the backward reader's first block.
func TestInheritedTime(t *testing.T) {
	d := newSandboxDir(t)
	lines := []string{
		"unstamped at the start: birth",
		rl(100, "stamped"),
		"unstamped",
		"",
		strings.Repeat("u", 100<<10), // unstamped, longer than a block
		"[   3.000000] uptime",
		rl(200, strings.Repeat("s", 200<<10)), // stamped, longer than a block
		"\x1b[1m" + rl(300, "colored stamp"),
		"tail",
	}
	d.runtime(lines...)
	path := d.path(RuntimeLogName)
	_, birth := statx(t, path)
	sb := d.open()
	files, err := chain.OpenFileSet(sb.table)
	if err != nil {
		t.Fatal(err)
	}
	defer files.Release()
	f := files.Text[logline.OriginRuntime][0]
	want := []Time{birth, nsAt(100), nsAt(100), nsAt(100), nsAt(100), plusNs(birth, 3e9), nsAt(200), nsAt(300), nsAt(300)}
	var off uint64
	if got := inheritedTime(f, 0); got != birth {
		t.Errorf("at 0: %v, want the birth time %v", got, birth)
	}
	for i, l := range lines {
		off += uint64(len(l) + 1)
		if got := inheritedTime(f, off); got != want[i] {
			t.Errorf("after line %d (%.20q): %s, want %s", i, l, FormatTime(got), FormatTime(want[i]))
		}
	}
}
