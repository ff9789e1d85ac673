package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/index"
)

// indexFiles returns the index files under the cache dir dir.
func indexFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, IndexDirName, "*.idx"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// statWith stats v of d through a new Home whose cache dir is dir, and
// reports whether the index came from disk (a pass would have warmed v,
// which must be a raw view).
func statWith(t *testing.T, d *tdir, dir string, v View) (sb *Sandbox, restored bool) {
	t.Helper()
	sb = d.openWith(func(h *Home) { h.SetCacheDir(dir) })
	st, err := sb.Stat(v)
	if err != nil {
		t.Fatal(err)
	}
	x := sb.indexes[v.Stream()]
	if st.Size != x.Total[index.TrackedIndex(v)] {
		t.Fatalf("stat says %d, the index %d", st.Size, x.Total[index.TrackedIndex(v)])
	}
	return sb, x.Cache.ChunkCount(index.TrackedIndex(v)) == 0
}

// TestPersistedIndex: a second Home starts with the index the first saved;
// a corrupt, truncated or stale index file is not trusted, and every view
// reads the bytes of an uncached render.
func TestPersistedIndex(t *testing.T) {
	d := newSandboxDir(t)
	writeLines(d, 0, 5000)
	dir := t.TempDir()
	check := func(sb *Sandbox, what string) {
		t.Helper()
		for _, v := range []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewSystem} {
			if got, want := snap(t, sb, v), uncached(t, d, v); !bytes.Equal(got, want) {
				t.Fatalf("%s: %v differs from an uncached render (%d, %d bytes)", what, v, len(got), len(want))
			}
		}
	}
	if _, restored := statWith(t, d, dir, ViewStdout); restored {
		t.Fatal("the first Home found an index")
	}
	files := indexFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("index files %v, want one", files)
	}
	sb, restored := statWith(t, d, dir, ViewStdout)
	if !restored {
		t.Fatal("a second Home built the index again")
	}
	check(sb, "restored")

	good, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		what string
		data []byte
	}{
		{"a flipped byte", func() []byte { b := bytes.Clone(good); b[len(b)/2] ^= 0x40; return b }()},
		{"truncated", good[:len(good)/2]},
		{"truncated to nothing", nil},
		{"a flipped checksum", func() []byte { b := bytes.Clone(good); b[len(b)-1] ^= 1; return b }()},
	} {
		if err := os.WriteFile(files[0], bad.data, 0o600); err != nil {
			t.Fatal(err)
		}
		sb, restored := statWith(t, d, dir, ViewStdout)
		if restored {
			t.Fatalf("%s: the index file was trusted", bad.what)
		}
		check(sb, bad.what)
		if b, err := os.ReadFile(files[0]); err != nil || !bytes.Equal(b, good) {
			t.Fatalf("%s: the rebuilt index was not saved again (%v)", bad.what, err)
		}
	}

	writeLines(d, 5000, 500) // the files changed: the saved index is stale
	sb, restored = statWith(t, d, dir, ViewStdout)
	if restored {
		t.Fatal("an index of other bytes was trusted")
	}
	check(sb, "stale")
}
