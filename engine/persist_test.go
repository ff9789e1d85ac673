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

// TestIndexStoreBound: the index directory is trimmed to its limit, the
// least recently used files first.
func TestIndexStoreBound(t *testing.T) {
	s := &index.Store{Dir: t.TempDir(), Limit: 4 << 10}
	x := &index.SavedIndex{Cps: make([]index.Checkpoint, 8)}
	for i := range x.Cps {
		x.Cps[i].Serial = uint64(i + 1)
	}
	for i := range 20 {
		if err := s.Save([]byte{byte(i)}, x); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(s.Dir)
	var total int64
	for _, e := range ents {
		fi, _ := e.Info()
		total += fi.Size()
	}
	if total > s.Limit || len(ents) == 0 {
		t.Fatalf("%d files, %d bytes: want some, within %d", len(ents), total, s.Limit)
	}
	if _, ok := s.Load([]byte{19}); !ok {
		t.Fatal("the newest index was trimmed")
	}
}

// TestIndexStoreCountsWithoutListing: saves under the limit keep an exact
// count of the directory without listing it again (a walk over thousands
// of small sandboxes saved in quadratic time when every save listed it);
// the count is right after replacing a file and after a trim.
func TestIndexStoreCountsWithoutListing(t *testing.T) {
	s := &index.Store{Dir: t.TempDir(), Limit: 1 << 20}
	x := &index.SavedIndex{Cps: make([]index.Checkpoint, 8)}
	for i := range x.Cps {
		x.Cps[i].Serial = uint64(i + 1)
	}
	onDisk := func() int64 {
		ents, _ := os.ReadDir(s.Dir)
		var total int64
		for _, e := range ents {
			fi, _ := e.Info()
			total += fi.Size()
		}
		return total
	}
	for i := range 30 {
		if err := s.Save([]byte{byte(i % 20)}, x); err != nil { // 10 replace a file
			t.Fatal(err)
		}
		if i == 0 {
			// A file another process wrote: seen at the next listing.
			if err := os.WriteFile(filepath.Join(s.Dir, "other"), make([]byte, 100), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := onDisk() - 100; s.Used != got {
		t.Fatalf("counted %d bytes, the directory holds %d of this process's", s.Used, got)
	}
	s.Limit = s.Used / 2
	if err := s.Save([]byte{99}, x); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(); s.Used != got || got > s.Limit {
		t.Fatalf("after a trim: counted %d, on disk %d, limit %d", s.Used, got, s.Limit)
	}
}

// FuzzDecodeIndex: decoding any bytes never panics, and what it accepts
// keeps the invariants reads rely on.
func FuzzDecodeIndex(f *testing.F) {
	x := &index.SavedIndex{Cps: []index.Checkpoint{{Serial: 1}, {Serial: 2, Offs: [index.MaxTracked]int64{5, 9}}}, Total: [index.MaxTracked]int64{7, 9}}
	f.Add(index.EncodeIndex(nil, x))
	f.Add([]byte{})
	withIDs := *x
	withIDs.Cps = []index.Checkpoint{x.Cps[0], x.Cps[1]}
	withIDs.Cps[1].IDs = []index.IDStat{{ID: 3, Entries: 2, Bytes: 4, Size: [index.MaxTracked]int64{3, 4}, Sources: 1 << SourceStdout},
		{ID: 1<<64 - 1, Entries: 1, Size: [index.MaxTracked]int64{2, 5}, First: Time{Sec: 9}, Last: Time{Sec: 9, Nsec: 1e9}, Sources: 1 << SourceSystem}}
	withIDs.Tail = []index.IDStat{{ID: 7, Entries: 1, Size: [index.MaxTracked]int64{2}, Sources: 1 << SourceOutput}}
	f.Add(index.EncodeIndex(nil, &withIDs))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := index.DecodeIndex(b)
		if !ok {
			return
		}
		for i := 1; i < len(got.Cps); i++ {
			if !index.CheckpointAfter(&got.Cps[i-1], &got.Cps[i]) {
				t.Fatal("accepted checkpoints out of order")
			}
		}
		for v, n := range got.Total {
			if n < got.Cps[len(got.Cps)-1].Offs[v] {
				t.Fatal("accepted a total below a checkpoint")
			}
		}
		for i := 1; i < len(got.Cps); i++ { // the ids of the interval that ends at cps[i]
			checkDecodedIDs(t, got.Cps[i].IDs, got.Cps[i].Offs, got.Cps[i-1].Offs)
		}
		checkDecodedIDs(t, got.Tail, got.Total, got.Cps[len(got.Cps)-1].Offs)
		if len(got.Cps[0].IDs) != 0 {
			t.Fatal("accepted sessions before the first checkpoint")
		}
	})
}

// checkDecodedIDs checks what DecodeIndex promises of the sessions of one
// interval: ids increasing, sizes within the interval's.
func checkDecodedIDs(t *testing.T, ids []index.IDStat, to, from [index.MaxTracked]int64) {
	t.Helper()
	for j := range ids {
		if j > 0 && ids[j].ID <= ids[j-1].ID {
			t.Fatal("accepted ids out of order")
		}
		for v, n := range ids[j].Size {
			if n < 0 || n > to[v]-from[v] {
				t.Fatal("accepted a session size outside its interval")
			}
		}
	}
}
