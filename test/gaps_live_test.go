package test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// gapsT0 is the time of numbered line 0; line i is i × 10 ms later.
var gapsT0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// numberedLine is the stdout body of numbered line i.
func numberedLine(i int) string { return fmt.Sprintf("line %06d %s\n", i, strings.Repeat("x", 40)) }

// numberedMerged is numbered line i as merged renders it.
func numberedMerged(i int) string {
	at := gapsT0.Add(time.Duration(i) * 10 * time.Millisecond)
	return at.Format("2006-01-02T15:04:05.000Z") + " stdout " + numberedLine(i)
}

// numberedMergedRange is numbered lines from..to-1 as merged renders them.
func numberedMergedRange(from, to int) []byte {
	var b bytes.Buffer
	for i := from; i < to; i++ {
		b.WriteString(numberedMerged(i))
	}
	return b.Bytes()
}

// writeNumberedLines appends numbered lines from..to-1 with their fixed
// times.
func writeNumberedLines(t *testing.T, w *msbwriter.Sandbox, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		at := gapsT0.Add(time.Duration(i) * 10 * time.Millisecond)
		if err := w.Exec(msbwriter.Chunk{Time: at, Source: msbwriter.SourceStdout, Data: []byte(numberedLine(i))}); err != nil {
			t.Fatal(err)
		}
	}
}

// preadAll reads f from 0 to size with pread.
func preadAll(t *testing.T, f *os.File, size int64) []byte {
	t.Helper()
	b := make([]byte, size)
	if n, err := f.ReadAt(b, 0); int64(n) != size || (err != nil && err != io.EOF) {
		t.Fatalf("pread %s [0, %d): %d bytes, %v", f.Name(), size, n, err)
	}
	return b
}

// waitLiveSize waits until fstat of the live handle f gives want.
func waitLiveSize(t *testing.T, f *os.File, want int64) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("fstat of %s to give %d", f.Name(), want), func() bool {
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size() == want
	})
}

// TestGapsLiveOffsets: what an offset of a .live file means. Within one
// open, fstat grows as lines are appended and pread at an earlier offset
// gives the same bytes, even after rotation dropped the file they came
// from. A new open starts from the view as it is then, without the
// dropped files: the offset saved from the first open holds other bytes
// there, as the spec warns shippers.
func TestGapsLiveOffsets(t *testing.T) {
	home := t.TempDir()
	w, err := msbwriter.Create(home, "box", msbwriter.Options{RotateAt: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	writeNumberedLines(t, w, 0, 50)
	m := mount(t, home)
	first, err := os.Open(m.path("box", "merged.live"))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	want := numberedMergedRange(0, 50)
	waitLiveSize(t, first, int64(len(want)))
	if got := preadAll(t, first, int64(len(want))); !bytes.Equal(got, want) {
		t.Fatalf("merged.live at open: %d bytes, want the %d of lines 0-49", len(got), len(want))
	}
	saved := int64(len(numberedMergedRange(0, 20))) // where line 20 starts, as a shipper would save it

	// Appends, many rotations: the handle takes each batch in before the
	// next one, so no file it has not read is dropped under it.
	const total = 1000
	for from := 50; from < total; from += 50 {
		writeNumberedLines(t, w, from, from+50)
		want = numberedMergedRange(0, from+50)
		waitLiveSize(t, first, int64(len(want)))
		if got := preadAll(t, first, int64(len(want))); !bytes.Equal(got, want) {
			t.Fatalf("merged.live after line %d: %d bytes differ from lines 0-%d", from+49, len(got), from+49)
		}
	}
	if first0 := render(t, home, "box", engine.ViewMerged)[:len(numberedMerged(0))]; string(first0) == numberedMerged(0) {
		t.Fatal("line 0 is still in the exec.log chain: nothing was dropped, the test proves nothing")
	}

	// A new open: the view as it is now, which starts later.
	second, err := os.Open(m.path("box", "merged.live"))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	now := render(t, home, "box", engine.ViewMerged)
	waitLiveSize(t, second, int64(len(now)))
	if got := preadAll(t, second, int64(len(now))); !bytes.Equal(got, now) {
		t.Fatalf("a new open of merged.live: %d bytes, want the view now (%d)", len(got), len(now))
	}
	line := func(f *os.File) string {
		b := make([]byte, len(numberedMerged(20)))
		if _, err := f.ReadAt(b, saved); err != nil {
			t.Fatalf("pread %s at %d: %v", f.Name(), saved, err)
		}
		return string(b)
	}
	if got := line(first); got != numberedMerged(20) {
		t.Errorf("the first open at the saved offset: %q, want line 20 still", got)
	}
	if got := line(second); got == numberedMerged(20) || !strings.Contains(got, " stdout line ") {
		t.Errorf("the new open at the saved offset: %q; want another line than line 20", got)
	} else {
		t.Logf("offset %d: line 20 in the first open, %q in the new one", saved, strings.TrimSpace(got[25:43]))
	}
}
