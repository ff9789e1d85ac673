package chain_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// truncatedChain writes a chain of two exec files of about 64 KiB and
// returns it with its file set (bounded by their full sizes), the path of
// the rotated one, exec.log.1 (whose unterminated tail a read yields as a
// line), and its size.
func truncatedChain(t *testing.T) (*testutil.Dir, *chain.FileSet, string, int64) {
	d := testutil.NewDir(t)
	ms := int64(0)
	write := func() {
		for range 400 {
			ms++
			d.Exec(testutil.JL(ms, "stdout", "a line of the program, with a newline at its end\n"))
		}
	}
	write()
	d.Rotate()
	write()
	files := d.OpenFiles()
	path := d.Path(chain.ChainName(1))
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return d, files, path, info.Size()
}

// TestParseAheadFileCutWhileMapped: workers read spans through mappings;
// a file cut below its bound while a worker has its span mapped makes the
// worker fault there, and the merge's reader reads the rest of the span
// with pread, as a serial read does: the merge yields, counts and ends
// exactly as a serial merge over the cut file, and does not crash.
func TestParseAheadFileCutWhileMapped(t *testing.T) {
	testutil.WithAhead(t, testutil.AheadKnobs{Span: 1 << 20, BigLine: 1 << 20})
	_, files, path, size := truncatedChain(t)
	cut := size/2 - 37 // mid-line, pages below the bound
	faults := chain.MapFaults()
	cutDone := false
	defer chain.OnSpanMapped(func(f chain.FileRef, from, to int64) {
		if f.Gen == files.Chain[0].Gen && !cutDone {
			cutDone = true
			if err := os.Truncate(path, cut); err != nil {
				t.Error(err)
			}
		}
	})()
	got := testutil.RunMerge(t, files, logline.MaskAll, chain.State{}, true)
	if !cutDone || !got.Ahead {
		t.Fatalf("exec.log.1 was cut while mapped: %v; the merge parsed ahead: %v", cutDone, got.Ahead)
	}
	if n := chain.MapFaults() - faults; n != 1 {
		t.Fatalf("%d faults recovered, want 1", n)
	}
	want := testutil.RunMerge(t, files, logline.MaskAll, chain.State{}, false)
	testutil.SameRun(t, "a file cut while mapped", got, want)
	if len(want.Steps) < 100 || len(want.Steps) >= 600 {
		t.Fatalf("%d entries: the cut should fall inside exec.log.1", len(want.Steps))
	}
}

// TestParseAheadFileCutBeforeMapped: a file already shorter than its bound
// when a worker comes to its span is read with pread, not mapped (a
// mapping would fault, or show zeros up to the end of the page that holds
// the file's new end): no fault, and the merge is a serial one, whether
// the cut is pages below the bound or in its last page.
func TestParseAheadFileCutBeforeMapped(t *testing.T) {
	testutil.WithAhead(t, testutil.AheadKnobs{Span: 1 << 20, BigLine: 1 << 20})
	for _, below := range []int64{50, -1} {
		_, files, path, size := truncatedChain(t)
		cut := size - below
		if below < 0 {
			cut = size/2 - 37
		}
		if err := os.Truncate(path, cut); err != nil {
			t.Fatal(err)
		}
		faults := chain.MapFaults()
		got := testutil.RunMerge(t, files, logline.MaskAll, chain.State{}, true)
		if !got.Ahead {
			t.Fatal("the merge never parsed ahead")
		}
		if n := chain.MapFaults() - faults; n != 0 {
			t.Fatalf("cut to %d of %d bytes: %d faults recovered, want none", cut, size, n)
		}
		want := testutil.RunMerge(t, files, logline.MaskAll, chain.State{}, false)
		testutil.SameRun(t, fmt.Sprintf("a file cut to %d of %d bytes before it was mapped", cut, size), got, want)
	}
}
