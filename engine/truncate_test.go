package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
)

// rewriteViews are the views compared after a rewrite.
var rewriteViews = []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewStderr, ViewOutput, ViewSystem,
	{Mask: 1 << SourceSystem, Format: FormatJSON}}

// scanView renders view v through a Scanner, as the logs command does.
func scanView(t testing.TB, sb *Sandbox, v View) []byte {
	t.Helper()
	sc := sb.NewScanner(Query{Mask: v.Mask})
	defer sc.Close()
	var r Renderer
	var out []byte
	if err := sc.Next(func(e *Entry, after *State) error {
		out = r.Append(out, v.Format, e, after)
		return nil
	}); err != nil {
		t.Fatalf("Scanner of %v: %v", v, err)
	}
	return out
}

// textLines returns n lines of a text log stamped from ms on, 3 ms apart,
// each tagged tag; every line has the same length for a given tag length.
func textLines(ms int64, n int, tag string) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = rl(ms+3*int64(i), fmt.Sprintf("%s-%04d", tag, i))
	}
	return lines
}

// rewriteCase is one way of changing a log file other than by appending.
type rewriteCase struct {
	name    string
	size    func(old int) int // lines of the new file, from the old count
	replace bool              // a new file renamed over the old one, else the same inode rewritten
}

var rewriteCases = []rewriteCase{
	{"smaller", func(old int) int { return old / 3 }, false},
	{"equal", func(old int) int { return old }, false},
	{"larger", func(old int) int { return old * 3 }, false},
	{"replaced", func(old int) int { return old * 2 }, true},
}

// rewrite changes file to data as rc says.
func (rc rewriteCase) rewrite(t *testing.T, d *tdir, file, data string) {
	t.Helper()
	if !rc.replace {
		d.writeFile(file, data)
		return
	}
	tmp := d.path(file + ".new")
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, d.path(file)); err != nil {
		t.Fatal(err)
	}
}

// newRewriteSandbox writes an exec.log of several checkpoints, interleaved
// with a runtime.log and a kernel.log of n lines each.
func newRewriteSandbox(t *testing.T, n int) *tdir {
	d := newSandboxDir(t)
	var ex []string
	for i := range 1200 {
		ex = append(ex, jlID(int64(i), []string{"stdout", "stderr", "output", "system"}[i%4],
			fmt.Sprintf("chunk %d %s\n", i, strings.Repeat("x", i%97)), 1))
	}
	d.exec(ex...)
	d.runtime(textLines(1, n, "old-runtime")...)
	d.kernel(textLines(2, n, "old-kernel-")...)
	return d
}

// checkAfter compares every view of sb with a fresh Home's and with the
// Scanner's rendering, and with the model (checkViews).
func checkAfter(t *testing.T, d *tdir, sb *Sandbox, step string) {
	t.Helper()
	expireHold(sb)
	checkViews(t, d, sb)
	fresh := d.open()
	for _, v := range rewriteViews {
		got := snap(t, sb, v)
		compareBytes(t, fmt.Sprintf("%s: %v against a fresh home", step, v), got, snap(t, fresh, v))
		compareBytes(t, fmt.Sprintf("%s: %v against the scanner", step, v), got, scanView(t, fresh, v))
	}
}

// TestTextLogRewrittenInPlace: a runtime.log or kernel.log truncated in
// place and written again — to fewer, as many or more bytes than before —
// changes every view to what a fresh Home and the Scanner show (issue 7
// item 2: the index took a regrown file for an append and answered EIO).
func TestTextLogRewrittenInPlace(t *testing.T) {
	for _, file := range []string{RuntimeLogName, KernelLogName} {
		for _, rc := range rewriteCases {
			t.Run(file+"/"+rc.name, func(t *testing.T) {
				const n = 60
				d := newRewriteSandbox(t, n)
				sb := d.open()
				checkAfter(t, d, sb, "before")
				tag := "NEW-runtime"
				if file == KernelLogName {
					tag = "NEW-kernel-"
				}
				rc.rewrite(t, d, file, joinLines(textLines(500, rc.size(n), tag)))
				checkAfter(t, d, sb, "after the rewrite")
				d.appendRaw(file, joinLines(textLines(2900, 2, tag+"+")))
				checkAfter(t, d, sb, "after an append to the rewritten file")
			})
		}
	}
}

// TestExecLogRewrittenInPlace: an exec.log rewritten in place (not an
// append) is indexed again from its start by snapshots.
func TestExecLogRewrittenInPlace(t *testing.T) {
	for _, rc := range rewriteCases {
		t.Run(rc.name, func(t *testing.T) {
			d := newRewriteSandbox(t, 10)
			sb := d.open()
			checkAfter(t, d, sb, "before")
			var ex []string
			for i := range rc.size(1200) {
				ex = append(ex, jlID(int64(i), "stdout", fmt.Sprintf("NEW %d %s\n", i, strings.Repeat("y", i%97)), 2))
			}
			rc.rewrite(t, d, ExecLogName, strings.Join(ex, ""))
			checkAfter(t, d, sb, "after the rewrite")
		})
	}
}

// TestRewriteWithOpenHandles: a follower and a snapshot open during the
// rewrite of a text log. The follower restarts the rewritten log from its
// start; the snapshot keeps serving its own bytes where it still has them
// and otherwise fails with ErrRewritten — never other bytes; views opened
// afterwards equal a fresh Home's.
func TestRewriteWithOpenHandles(t *testing.T) {
	for _, file := range []string{RuntimeLogName, KernelLogName} {
		for _, rc := range rewriteCases {
			t.Run(file+"/"+rc.name, func(t *testing.T) { rewriteWithOpenHandles(t, file, rc) })
		}
	}
}

func rewriteWithOpenHandles(t *testing.T, file string, rc rewriteCase) {
	tag := "NEW-runtime"
	if file == KernelLogName {
		tag = "NEW-kernel-"
	}
	const n = 60
	d := newRewriteSandbox(t, n)
	sb := d.open()
	old := snap(t, sb, ViewMerged)
	s, err := sb.OpenSnapshot(ViewMerged)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fl := openFollower(t, sb, ViewSystem)
	fl.read()

	newLines := textLines(5000, rc.size(n), tag)
	rc.rewrite(t, d, file, joinLines(newLines))
	var want strings.Builder
	for i := range newLines {
		fmt.Fprintf(&want, "%s system %s-%04d\n", tsAt(5000+3*int64(i)), tag, i)
	}
	compareBytes(t, "the follower after the rewrite", fl.waitAdvance(), []byte(want.String()))
	checkAfter(t, d, sb, "after the rewrite")

	buf := make([]byte, s.Size())
	for off := int64(0); off < s.Size(); off += 4096 {
		c, err := s.ReadAt(buf[off:min(off+4096, s.Size())], off)
		if err != nil && !errors.Is(err, chain.ErrRewritten) && err != io.EOF {
			t.Fatalf("old snapshot at %d: %v", off, err)
		}
		compareBytes(t, fmt.Sprintf("old snapshot at %d", off), buf[off:off+int64(c)], old[off:off+int64(c)])
	}
	if rc.replace { // the old file is still open: its bytes are all there
		compareBytes(t, "old snapshot of a replaced file", readAllAt(t, s, s.Size(), 4096), old)
	}
}

// TestScannerAndReaderRestartRewrittenLog: the logs command's Scanner and
// the seek file's Reader, both positioned at the end, restart a runtime.log
// rewritten in place to a larger size from its start, as they do for a
// truncated one.
func TestScannerAndReaderRestartRewrittenLog(t *testing.T) {
	d := newSandboxDir(t)
	d.runtime(textLines(0, 5, "old")...)
	sb := d.open()
	sc := sb.NewScanner(Query{Mask: MaskAll})
	defer sc.Close()
	var got []string
	collect := func(e *Entry, _ *State) error { got = append(got, string(e.Body)); return nil }
	if err := sc.Next(collect); err != nil {
		t.Fatal(err)
	}
	r := sb.NewReader(ViewSystem, State{})
	defer r.Close()
	drainReader(t, r, 4096)

	d.writeFile(RuntimeLogName, joinLines(textLines(100, 12, "NEW")))
	got = nil
	if err := sc.Next(collect); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 12 {
		want = append(want, fmt.Sprintf("NEW-%04d\n", i))
	}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("Scanner after the rewrite: %q, want %q", got, want)
	}
	var wantText strings.Builder
	for i := range 12 {
		fmt.Fprintf(&wantText, "%s system NEW-%04d\n", tsAt(100+3*int64(i)), i)
	}
	compareBytes(t, "Reader after the rewrite", drainReader(t, r, 4096), []byte(wantText.String()))
}
