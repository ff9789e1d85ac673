package engine

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
	"golang.org/x/sys/unix"
)

// checkEveryResume reads merged.jsonl with a Scanner from the start, then
// resumes after each entry (its cursor, StateAt), through a Reader and
// through a Scanner, and checks that each yields the entries after it. Up
// to resumeWhole entries, every resume is read to the end: exactly the
// entries after it, nothing more. Past that, which would cost the square
// of the entries, every resume is read for its next resumeAhead entries,
// and the resumes at every (entries/resumeWhole)th entry (the first and
// the last among them) are read to the end: the same entries are picked
// for the same files, and the cost grows with the entries.
func checkEveryResume(t *testing.T, sb *Sandbox) {
	t.Helper()
	full := snap(t, sb, ViewMergedJSON)
	lines := bytes.SplitAfter(full, []byte{'\n'})
	lines = lines[:len(lines)-1]
	js := parseJSONL(t, full)
	stride := max(1, (len(js)+resumeWhole-1)/resumeWhole)
	for i := -1; i < len(js); i++ {
		var st State
		what := "from the start"
		if i >= 0 {
			c, err := ParseCursor(js[i].Cursor)
			if err != nil {
				t.Fatalf("entry %d: its own cursor: %v", i, err)
			}
			if st, err = sb.StateAt(c); err != nil {
				t.Fatalf("entry %d: StateAt(its cursor): %v", i, err)
			}
			what = fmt.Sprintf("resumed after entry %d of %d", i, len(js))
		}
		end := len(js)
		if len(js) > resumeWhole && (i+1)%stride != 0 && i != len(js)-1 {
			end = min(end, i+1+resumeAhead)
		}
		checkResumeReader(t, sb, what, st, bytes.Join(lines[i+1:end], nil), end == len(js))
		want := end - i - 1
		got := scanAhead(t, sb, Query{Mask: MaskAll, From: st}, want)
		if len(got) < want || end == len(js) && len(got) != want {
			t.Fatalf("%s by a Scanner: %d entries, want %d of the %d after it", what, len(got), want, len(js)-i-1)
		}
		for k, g := range got[:want] {
			if w := js[i+1+k]; g.body != w.body() || g.cursor != w.Cursor {
				t.Fatalf("%s by a Scanner: entry %d is %q %s, want %q %s", what, k, g.body, g.cursor, w.body(), w.Cursor)
			}
		}
	}
}

// resumeWhole and resumeAhead bound what checkEveryResume reads of each
// resume, past resumeWhole entries.
const (
	resumeWhole = 64
	resumeAhead = 8
)

// checkResumeReader checks that a Reader of merged.jsonl from st starts
// with want, and when whole, that it holds want and nothing more. It reads
// no more than want's length unless whole.
func checkResumeReader(t *testing.T, sb *Sandbox, what string, st State, want []byte, whole bool) {
	t.Helper()
	if whole {
		compareBytes(t, what, readerAll(t, sb, ViewMergedJSON, st), want)
		return
	}
	r := sb.NewReader(ViewMergedJSON, st)
	defer r.Close()
	got := make([]byte, len(want))
	for n := 0; n < len(got); {
		c, err := r.Read(got[n:])
		if err != nil {
			t.Fatalf("%s: Reader.Read: %v", what, err)
		}
		if c == 0 {
			got = got[:n]
			break
		}
		n += c
	}
	compareBytes(t, what+" (its first entries)", got, want)
}

// scanned is an entry a Scanner yielded: its body and its cursor.
type scanned struct{ body, cursor string }

// scanEntries runs a Scanner of q once to the end of the files.
func scanEntries(t *testing.T, sb *Sandbox, q Query) []scanned {
	t.Helper()
	return scanAhead(t, sb, q, -1)
}

// errEnoughScanned stops scanAhead's Scanner.
var errEnoughScanned = errors.New("enough entries scanned")

// scanAhead runs a Scanner of q once, to the end of the files when n < 0,
// else for its first n entries and one more (so that a caller sees
// whether there are more).
func scanAhead(t *testing.T, sb *Sandbox, q Query, n int) []scanned {
	t.Helper()
	sc := sb.NewScanner(q)
	defer sc.Close()
	var out []scanned
	err := sc.Next(func(e *Entry, after *State) error {
		out = append(out, scanned{string(e.Body), after.Cursor.String()})
		if n >= 0 && len(out) > n {
			return errEnoughScanned
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnoughScanned) {
		t.Fatalf("Scanner.Next: %v", err)
	}
	return out
}

// stampOnlyLines are text lines that hold a timestamp and nothing else
// (issue 7 item 1): each once made the engine panic.
var stampOnlyLines = []string{
	"2026-05-01T10:00:03Z",
	"2026-05-01T10:00:03.5Z   ",
	"2026-05-01T10:00:03.6Z\t",
	"2026-05-01T10:00:04Z \x1b[0m",
	"\x1b[32m2026-05-01T10:00:05Z\x1b[0m",
	"   2026-05-01T10:00:06Z",
	"\t 2026-05-01T10:00:07Z \t",
	"after a stamp-only line",
}

// TestTextLineOnlyStamp: a text line that is only a timestamp is an entry
// with an empty body (its newline kept), in every view, with cursors that
// resume, in runtime.log and kernel.log alike.
func TestTextLineOnlyStamp(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "out\n"), jl(9000, "stderr", "late\n"))
	d.runtime(stampOnlyLines...)
	d.kernel(append([]string{"[    1.000000] boot"}, stampOnlyLines...)...)
	sb := d.open()
	views := checkViews(t, d, sb)
	var empty int
	for _, j := range parseJSONL(t, views["merged.jsonl"]) {
		if j.D == "\n" {
			empty++
		}
	}
	if want := 2 * (len(stampOnlyLines) - 1); empty != want {
		t.Errorf("%d entries with the body \"\\n\", want %d", empty, want)
	}
	if _, err := sb.EndCursor(); err != nil {
		t.Fatalf("EndCursor: %v", err)
	}
	checkEveryResume(t, sb)
}

// TestIrregularLogFilesSkipped: a FIFO, a directory, a socket or a symbolic
// link named like a log file is skipped, each logged once per file identity,
// and the rest of the sandbox is served (issue 7 item 4: the whole sandbox
// was unreadable). A FIFO is never opened, so nothing blocks.
func TestIrregularLogFilesSkipped(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "old\n"))
	d.rotate()
	if err := os.Rename(d.path(chain.ChainName(1)), d.path(chain.ChainName(2))); err != nil {
		t.Fatal(err)
	}
	d.exec(jl(1, "stdout", "new\n"))
	outside := filepath.Join(t.TempDir(), "elsewhere.log")
	if err := os.WriteFile(outside, []byte(jl(2, "stdout", "outside\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(d.path(chain.ChainName(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(d.path(RuntimeLogName), 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", d.path(KernelLogName))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Symlink(outside, d.path(chain.ChainName(3))); err != nil {
		t.Fatal(err)
	}
	logs := captureLogs(t)
	sb := d.open()
	for range 3 {
		checkViews(t, d, sb)
		expireHold(sb)
	}
	if got := string(snap(t, sb, ViewStdout)); got != "old\nnew\n" {
		t.Errorf("stdout %q, want the two regular files' chunks", got)
	}
	checkEveryResume(t, sb)
	for _, name := range []string{chain.ChainName(1), RuntimeLogName, KernelLogName, chain.ChainName(3)} {
		if n := strings.Count(logs(), d.path(name)+":"); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", name, n, logs())
		}
	}
	// Another FIFO at the same name is another file: logged once more.
	if err := unix.Mkfifo(d.path("fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(d.path("fifo"), d.path(chain.ChainName(1))); err != nil {
		t.Fatal(err)
	}
	expireHold(sb)
	checkViews(t, d, sb)
	if n := strings.Count(logs(), d.path(chain.ChainName(1))+":"); n != 2 {
		t.Errorf("a new FIFO at %s: logged %d times in all, want 2", chain.ChainName(1), n)
	}
}

// captureLogs sends slog's default logger to a file for the test, and
// returns a function that reads what was logged so far.
func captureLogs(t *testing.T) func() string {
	path := filepath.Join(t.TempDir(), "log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(f, nil)))
	t.Cleanup(func() { slog.SetDefault(old); f.Close() })
	return func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// TestCursorAbsurdOffsets: an exec position past the end of its file
// (2^63 and 2^64-1 included) or inside a line is an invalid cursor; a text
// position past the end or inside a line resumes from that file's start
// (issue 7 item 3: a panic in the line scanner).
func TestCursorAbsurdOffsets(t *testing.T) {
	d := newSandboxDir(t)
	first := jl(0, "stdout", "a\n")
	d.exec(first, jl(1, "stdout", "b\n"))
	d.appendRaw(ExecLogName, "unterminated")
	d.rotate()
	d.exec(jl(2, "stdout", "c\n"), jl(3, "stdout", "d\n"))
	d.runtime(rl(4, "r1"), rl(5, "r2"))
	sb := d.open()
	rotated, cur := inodeOf(t, d.path(chain.ChainName(1))), inodeOf(t, d.path(ExecLogName))
	rtGen, rtSize := inodeOf(t, d.path(RuntimeLogName)), uint64(fileSize(t, d.path(RuntimeLogName)))
	curSize := uint64(fileSize(t, d.path(ExecLogName)))
	for name, p := range map[string]logline.Pos{
		"2^63":             {Gen: cur, Offset: 1 << 63},
		"2^64-1":           {Gen: cur, Offset: 1<<64 - 1},
		"past the end":     {Gen: cur, Offset: curSize + 1},
		"inside a line":    {Gen: cur, Offset: 5},
		"before a newline": {Gen: cur, Offset: uint64(len(first)) - 1},
		"inside the tail":  {Gen: rotated, Offset: curSize + 3},
		"rotated, 2^63":    {Gen: rotated, Offset: 1 << 63},
	} {
		_, err := sb.StateAt(Cursor{p})
		if !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%s %+v: StateAt gave %v, want ErrInvalidCursor", name, p, err)
		}
	}
	rotatedSize := uint64(fileSize(t, d.path(chain.ChainName(1))))
	for name, tc := range map[string]struct {
		c    Cursor
		want string
	}{
		"after a line":           {Cursor{{Gen: cur, Offset: curSize - uint64(len(jl(3, "stdout", "d\n")))}}, "d\nr1\nr2\n"},
		"end of a rotated tail":  {Cursor{{Gen: rotated, Offset: rotatedSize}}, "c\nd\nr1\nr2\n"},
		"runtime 2^63":           {Cursor{{}, {Gen: rtGen, Offset: 1 << 63}}, "a\nb\nc\nd\nr1\nr2\n"},
		"runtime inside a line":  {Cursor{{}, {Gen: rtGen, Offset: 3}}, "a\nb\nc\nd\nr1\nr2\n"},
		"runtime past its end":   {Cursor{{}, {Gen: rtGen, Offset: rtSize + 1}}, "a\nb\nc\nd\nr1\nr2\n"},
		"runtime after the 1st":  {Cursor{{}, {Gen: rtGen, Offset: uint64(len(rl(4, "r1"))) + 1}}, "a\nb\nc\nd\nr2\n"},
		"runtime, foreign inode": {Cursor{{}, {Gen: rtGen + 1, Offset: 1}}, "a\nb\nc\nd\nr1\nr2\n"},
	} {
		st, err := sb.StateAt(tc.c)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := string(readerAll(t, sb, View{Mask: MaskAll, Format: FormatRaw}, st)); got != tc.want {
			t.Errorf("%s: resumed to %q, want %q", name, got, tc.want)
		}
	}
}

// TestMergerAnyState: the merger never panics, whatever state it is given
// (defence in depth: states from cursors are checked by StateAt first).
func TestMergerAnyState(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "a\n"), jl(1, "stdout", "b\n"))
	d.runtime(rl(2, "r"), "unstamped")
	d.kernel("[ 1.5] k")
	sb := d.open()
	files, err := chain.OpenFileSet(sb.table)
	if err != nil {
		t.Fatal(err)
	}
	defer files.Release()
	gens := []uint64{0, 1, files.Chain[0].Gen, files.Text[logline.OriginRuntime][0].Gen, files.Text[logline.OriginKernel][0].Gen}
	offs := []uint64{0, 1, 5, 1<<63 - 1, 1 << 63, 1<<64 - 1}
	for _, g := range gens {
		for _, off := range offs {
			st := State{Cursor: Cursor{{Gen: g, Offset: off}, {Gen: g, Offset: off}, {Gen: g, Offset: off}}, Prev: [logline.NumOrigins]Time{logline.TimeBottom, logline.TimeTop, {Sec: 1, Nsec: 1<<32 - 1}}}
			drainMerger(files, st)
		}
	}
}

// drainMerger merges every source from st to the end of files.
func drainMerger(files *chain.FileSet, st State) (n int, err error) {
	var m chain.Merger
	defer m.ReleaseBuffers()
	if err := m.Reset(files, MaskAll, st); err != nil {
		return 0, err
	}
	for {
		if _, ok := m.Next(); !ok {
			m.Drained()
			return n, m.Err()
		}
		n++
	}
}

// TestTimesWholeRange: exec and text lines with any time RFC 3339 allows
// (years 0000 to 9999, any offset, leap seconds) are entries in the right
// order; a leap second sorts after :59 and before the next minute and
// renders as :60. A time whose year in UTC leaves 0000–9999 is skipped and
// counted (issue 7 item 6: they were skipped).
func TestTimesWholeRange(t *testing.T) {
	d := newSandboxDir(t)
	x := func(ts, body string) string { return xline{T: ts, S: "stdout", D: body}.String() }
	d.exec(
		x("0000-01-01T00:00:00Z", "year 0\n"),
		x("1600-06-01T00:00:00+01:00", "1600\n"),
		x("2016-12-31T23:59:59.999999999Z", "before leap\n"),
		x("2017-01-01T01:59:60.25+02:00", "leap in +02:00\n"),
		x("2017-01-01T00:00:00Z", "after leap\n"),
		x("2300-01-01T00:00:00Z", "2300\n"),
		x("9999-12-31T23:59:60.999Z", "last\n"),
		x("0000-01-01T00:00:00+00:01", "year -1 in UTC\n"),
		x("9999-12-31T23:59:59-00:01", "year 10000 in UTC\n"),
	)
	d.runtime("2016-12-31T23:59:60.5Z runtime leap", "unstamped after it")
	sb := d.open()
	views := checkViews(t, d, sb)
	want := "0000-01-01T00:00:00.000Z stdout year 0\n" +
		"1600-05-31T23:00:00.000Z stdout 1600\n" +
		"2016-12-31T23:59:59.999Z stdout before leap\n" +
		"2016-12-31T23:59:60.250Z stdout leap in +02:00\n" +
		"2016-12-31T23:59:60.500Z system runtime leap\n" +
		"2016-12-31T23:59:60.500Z system unstamped after it\n" +
		"2017-01-01T00:00:00.000Z stdout after leap\n" +
		"2300-01-01T00:00:00.000Z stdout 2300\n" +
		"9999-12-31T23:59:60.999Z stdout last\n"
	compareBytes(t, "merged", views["merged"], []byte(want))
	if st, err := sb.Stat(ViewStdout); err != nil || st.Skipped.Malformed != 2 {
		t.Errorf("Stat(stdout) = %+v, %v: want the two times outside 0000–9999 skipped", st, err)
	}
	checkEveryResume(t, sb)
	leap, _ := ParseTime("2016-12-31T23:59:60Z")
	st, err := sb.StateAtTime(leap)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(readerAll(t, sb, ViewStdout, st)); got != "leap in +02:00\nafter leap\n2300\nlast\n" {
		t.Errorf("stdout from the leap second: %q", got)
	}
}

// TestTimeOrderAndFormat: a leap second sorts between :59 and the next
// minute; the formatter shows every year 0000–9999 with four digits and
// clamps what is outside.
func TestTimeOrderAndFormat(t *testing.T) {
	sec := TimeOf(time.Date(2016, 12, 31, 23, 59, 59, 0, time.UTC)).Sec
	order := []Time{{Sec: sec, Nsec: 0}, {Sec: sec, Nsec: 999999999}, {Sec: sec, Nsec: 1e9}, {Sec: sec, Nsec: 2e9 - 1}, {Sec: sec + 1, Nsec: 0}}
	for i := range len(order) - 1 {
		if !order[i].Less(order[i+1]) || order[i].Compare(order[i+1]) != -1 || order[i+1].Compare(order[i]) != 1 {
			t.Errorf("%v is not before %v", order[i], order[i+1])
		}
	}
	for tm, want := range map[Time]string{
		{Sec: sec, Nsec: 1e9 + 5e8}:          "2016-12-31T23:59:60.500Z",
		{Sec: sec, Nsec: 2e9 - 1}:            "2016-12-31T23:59:60.999Z",
		MinTime:                              "0000-01-01T00:00:00.000Z",
		logline.MaxTime:                      "9999-12-31T23:59:60.999Z",
		{Sec: MinTime.Sec - 1, Nsec: 0}:      "0000-01-01T00:00:00.000Z",
		logline.TimeBottom:                   "0000-01-01T00:00:00.000Z",
		logline.TimeTop:                      "9999-12-31T23:59:60.999Z",
		{Sec: -62135596800 + 59, Nsec: 1e9}:  "0001-01-01T00:00:60.000Z",
		{Sec: 253402300799 - 86400, Nsec: 0}: "9999-12-30T23:59:59.000Z",
	} {
		if got := FormatTime(tm); got != want {
			t.Errorf("FormatTime(%+v) = %q, want %q", tm, got, want)
		}
	}
	var f logline.TimeFormatter // the cache tells a leap second from its :59
	for _, tm := range []Time{{Sec: sec, Nsec: 5e8}, {Sec: sec, Nsec: 1e9 + 5e8}, {Sec: sec, Nsec: 5e8}} {
		if got, want := string(f.Format(tm)), FormatTime(tm); got != want {
			t.Errorf("cached format of %+v: %q, want %q", tm, got, want)
		}
	}
}

// TestUptimeNeverOverflows: birth plus uptime is checked: past the year
// 9999 (or with any birth time) it is refused, never wrapped around.
func TestUptimeNeverOverflows(t *testing.T) {
	for _, tc := range []struct {
		birth Time
		up    int64
		ok    bool
	}{
		{Time{Sec: 0}, 1e9, true},
		{Time{Sec: logline.MaxTime.Sec}, 0, true},
		{Time{Sec: logline.MaxTime.Sec - 1}, 1e9, true},
		{Time{Sec: logline.MaxTime.Sec - 1}, 3e9, false},
		{logline.TimeTop, 1, false},
		{Time{Sec: math.MaxInt64 - 1}, math.MaxInt64, false},
		{logline.TimeBottom, math.MaxInt64, true},
		{Time{Sec: 0}, -1, false},
	} {
		got, ok := logline.AddUptime(tc.birth, tc.up)
		if ok != tc.ok || (ok && (got.Less(tc.birth) || logline.MaxTime.Less(got))) {
			t.Errorf("addUptime(%+v, %d) = %+v, %v; want ok %v", tc.birth, tc.up, got, ok, tc.ok)
		}
	}
}

// TestTimePathsAllocationFree: parsing exec and text lines (with a leap
// second and a far year, a cache hit and a miss) and formatting times
// allocate nothing: the Time type kept the hot paths allocation-free.
func TestTimePathsAllocationFree(t *testing.T) {
	lines := [][]byte{
		[]byte(jl(0, "stdout", "hi\n")),
		[]byte(jl(1, "stdout", "hi\n")),
		[]byte(`{"t":"2016-12-31T23:59:60.5+01:00","s":"stderr","d":"x"}`),
		[]byte(`{"t":"0001-01-01T00:00:00Z","s":"output","d":"y","id":3}`),
	}
	text := []byte("\x1b[32m2016-12-31T23:59:60.5Z\x1b[0m body")
	var p logline.JSONParser
	var f logline.TimeFormatter
	allocs := testing.AllocsPerRun(100, func() {
		for _, l := range lines {
			e, ok := testutil.ParseExec(&p, l)
			if !ok {
				t.Fatalf("%s does not parse", l)
			}
			f.Format(e.Time)
		}
		buf := append(make([]byte, 0, 64), text...)
		_ = logline.ParseTextLine(buf)
	})
	if allocs > 1 { // the one is the text line's copy above
		t.Errorf("%.1f allocations per run", allocs)
	}
}
