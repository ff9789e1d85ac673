package index_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

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
	withIDs.Cps[1].IDs = []index.IDStat{{ID: 3, Entries: 2, Bytes: 4, Size: [index.MaxTracked]int64{3, 4}, Sources: 1 << logline.SourceStdout},
		{ID: 1<<64 - 1, Entries: 1, Size: [index.MaxTracked]int64{2, 5}, First: logline.Time{Sec: 9}, Last: logline.Time{Sec: 9, Nsec: 1e9}, Sources: 1 << logline.SourceSystem}}
	withIDs.Tail = []index.IDStat{{ID: 7, Entries: 1, Size: [index.MaxTracked]int64{2}, Sources: 1 << logline.SourceOutput}}
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
