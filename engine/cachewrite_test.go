package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestSmallCacheBudgetKeepsBytes: with a budget smaller than one view,
// every view reads the same bytes as an uncached render, twice, and the
// cache file holds at most the budget on disk.
func TestSmallCacheBudgetKeepsBytes(t *testing.T) {
	d := newSandboxDir(t)
	writeLines(d, 0, 20000)
	const budget = 96 << 10
	dir := t.TempDir()
	sb := d.openWith(func(h *Home) { h.SetCacheDir(dir); h.SetCacheBudget(budget) })
	cacheFile := filepath.Join(dir, CacheDirPrefix+strconv.Itoa(os.Getpid()), "chunks.")
	for _, v := range []View{ViewMerged, ViewMergedJSON, ViewStdout} { // the views with content
		want := uncached(t, d, v)
		for range 2 {
			if got := snap(t, sb, v); !bytes.Equal(got, want) {
				t.Fatalf("%v: %d bytes through a %d-byte cache differ from the %d rendered", v, len(got), budget, len(want))
			}
		}
		if len(want) < 2*budget {
			t.Fatalf("%v: %d bytes: the view must outgrow the budget", v, len(want))
		}
		used := sb.home.CacheUsed()
		files, _ := filepath.Glob(cacheFile + "*")
		if used == 0 || used > budget || len(files) != 1 || testutil.Allocated(t, files[0]) > budget {
			t.Fatalf("%v: cache used %d, files %v: want one file within %d bytes", v, used, files, budget)
		}
	}
}

// TestCacheWriteFailureOnlyCostsSpeed: when the cache file cannot be
// written (a full disk fails the same way), nothing is stored, no space is
// counted, and every view still reads its bytes.
func TestCacheWriteFailureOnlyCostsSpeed(t *testing.T) {
	d := newSandboxDir(t)
	writeLines(d, 0, 5000)
	dir := t.TempDir()
	sb := d.openWith(func(h *Home) { h.SetCacheDir(dir) })
	snap(t, sb, ViewMerged) // makes the cache file, stores merged's chunks
	stored := sb.home.CacheUsed()
	f := sb.home.cacheStore().File()
	if f == nil {
		t.Fatal("no cache file")
	}
	readOnly, err := os.Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	// The cache file's descriptor now names a read-only file: every write
	// fails with EBADF.
	if err := unix.Dup2(int(readOnly.Fd()), int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	readOnly.Close()
	for _, v := range []View{ViewMerged, ViewMergedJSON, ViewStdout} {
		want := uncached(t, d, v)
		for range 2 {
			if got := snap(t, sb, v); !bytes.Equal(got, want) {
				t.Fatalf("%v: %d bytes with a failing cache, %d rendered", v, len(got), len(want))
			}
		}
	}
	if used := sb.home.CacheUsed(); used != stored {
		t.Fatalf("failed writes count %d bytes", used-stored)
	}
}
