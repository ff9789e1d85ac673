package test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// mmapScript maps argv[1] shared and read-only (mmap.ACCESS_READ), reads
// its first half into argv[2], says "mapped SIZE", waits for a line on
// stdin, then writes the whole mapping into argv[3] (the second half is
// faulted in only now) and a fresh open's mapping into argv[4].
const mmapScript = `import mmap, os, sys
path, half_out, whole_out, fresh_out = sys.argv[1:5]
with open(path, 'rb') as f:
    size = os.fstat(f.fileno()).st_size
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    with open(half_out, 'wb') as o:
        o.write(m[:size // 2])
    print('mapped', size, flush=True)
    sys.stdin.readline()
    with open(whole_out, 'wb') as o:
        o.write(m[:])
    m.close()
with open(path, 'rb') as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    with open(fresh_out, 'wb') as o:
        o.write(m[:])
    m.close()
print('done', flush=True)
`

// TestGapsSharedMmapAcrossRotation: a shared read-only mapping of a
// snapshot, held while the sandbox appends and rotates past the files it
// was made of, gives the bytes of the open — the half read before the
// change and the half first read after it; a fresh open's mapping shows
// the new state.
func TestGapsSharedMmapAcrossRotation(t *testing.T) {
	python := needPython(t)
	home := t.TempDir()
	w, err := msbwriter.Create(home, "box", msbwriter.Options{RotateAt: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	writeNumberedLines(t, w, 0, 12000) // about 1 MiB of merged: pages the first read does not reach
	before := render(t, home, "box", engine.ViewMerged)
	m := mount(t, home)

	out := t.TempDir()
	half, whole, fresh := filepath.Join(out, "half"), filepath.Join(out, "whole"), filepath.Join(out, "fresh")
	py := startLineProc(t, python, "-c", mmapScript, m.path("box", "merged"), half, whole, fresh)
	if got := py.line(t); got != fmt.Sprint("mapped ", len(before)) {
		t.Fatalf("python: %q, want \"mapped %d\"; stderr: %s", got, len(before), py.stderr)
	}

	writeNumberedLines(t, w, 12000, 20000) // several rotations: the oldest files of the open are dropped
	if err := w.Rotate(); err != nil {
		t.Fatal(err)
	}
	writeNumberedLines(t, w, 20000, 20010)
	after := render(t, home, "box", engine.ViewMerged)
	if bytes.HasPrefix(after, before[:len(numberedMerged(0))]) || bytes.Equal(after, before) {
		t.Fatal("the rotations dropped nothing the snapshot showed: the test proves nothing")
	}
	waitFor(t, 5*time.Second, "stat by name to show the new state", func() bool {
		fi, err := os.Stat(m.path("box", "merged"))
		return err == nil && fi.Size() == int64(len(after))
	})
	if got := py.ask(t); got != "done" {
		t.Fatalf("python: %q, want done; stderr: %s", got, py.stderr)
	}
	if got := mustRead(t, half); !bytes.Equal(got, before[:len(before)/2]) {
		t.Errorf("the mapping's first half, read before the change: %d bytes differ from the open's %d", len(got), len(before)/2)
	}
	if got := mustRead(t, whole); !bytes.Equal(got, before) {
		t.Errorf("the whole mapping after the change: %d bytes, want the open's %d, same bytes", len(got), len(before))
	}
	if got := mustRead(t, fresh); !bytes.Equal(got, after) {
		t.Errorf("a fresh open's mapping: %d bytes, want the new state's %d", len(got), len(after))
	}
}
