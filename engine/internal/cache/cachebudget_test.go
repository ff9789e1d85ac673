package cache

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// TestCacheBudgetEvictsLeastRecentlyUsed: the store keeps at most its budget
// allocated, on disk too; it evicts the chunk read least recently; a chunk
// larger than the budget is not kept; the last release frees everything.
func TestCacheBudgetEvictsLeastRecentlyUsed(t *testing.T) {
	s := NewStore(t.TempDir(), 3*4096)
	c := s.NewCache()
	if c == nil {
		t.Fatal("no cache")
	}
	if s.f != nil {
		t.Fatal("the cache file was made before a chunk was stored")
	}
	chunk := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 4000) }
	key := func(i int) Key { return Key{From: uint64(i), To: uint64(i + 1)} }
	c.Store(key(0), chunk(0))
	if s.f == nil || s.f.path == "" {
		t.Fatal("no named cache file after the first chunk")
	}
	block := s.f.block
	if block != 4096 {
		t.Skipf("the cache directory's blocks are %d bytes; the test counts in 4 KiB", block)
	}
	for i := range 3 {
		c.Store(key(i), chunk(i))
	}
	buf := make([]byte, 4000)
	if n, ok := c.Read(key(0), buf, 0); !ok || n != 4000 || !bytes.Equal(buf, chunk(0)) {
		t.Fatalf("chunk 0: %d bytes, ok %v", n, ok)
	}
	c.Store(key(3), chunk(3)) // evicts chunk 1, the least recently used
	for i, want := range []bool{true, false, true, true} {
		n, ok := c.Read(key(i), buf, 100)
		if ok != want || ok && (n != 3900 || !bytes.Equal(buf[:n], chunk(i)[100:])) {
			t.Fatalf("chunk %d: ok %v (want %v), %d bytes", i, ok, want, n)
		}
	}
	if used, disk := s.Used(), testutil.Allocated(t, s.f.path); used > 3*4096 || disk > 3*4096 {
		t.Fatalf("used %d, on disk %d: over the budget of %d", used, disk, 3*4096)
	}
	c.Store(key(9), make([]byte, 4*4096))
	if _, ok := c.Read(key(9), buf, 0); ok {
		t.Fatal("a chunk over the budget was kept")
	}
	path := s.f.path
	c.Release()
	if s.Used() != 0 || testutil.Allocated(t, path) != 0 {
		t.Fatalf("released: used %d, on disk %d", s.Used(), testutil.Allocated(t, path))
	}
	s.Close()
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Fatalf("closed: the cache directory is still there (%v)", err)
	}
}

// TestCacheFileDeletedStartsAnew: when the cache directory is deleted
// under a running store, the next chunk stored notices that the file has
// no name left, drops the chunks it held, closes it (so the disk gets its
// space back at once, not at exit) and starts a new file; every chunk
// then reads back its own bytes.
func TestCacheFileDeletedStartsAnew(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir, 1<<20)
	c := s.NewCache()
	chunk := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 5000) }
	key := func(i int) Key { return Key{From: uint64(i), To: uint64(i + 1)} }
	c.Store(key(0), chunk(0))
	c.Store(key(1), chunk(1))
	if s.f == nil || s.f.path == "" {
		t.Fatal("no named cache file")
	}
	old := s.f.path
	if err := os.RemoveAll(filepath.Dir(old)); err != nil {
		t.Fatal(err)
	}
	if !heldDeleted(t, old) {
		t.Fatalf("the deleted %s is not held open before the next store", old)
	}
	c.Store(key(2), chunk(2))
	if heldDeleted(t, old) {
		t.Errorf("the deleted %s is still held open after a store", old)
	}
	if s.f == nil || s.f.path == "" || s.f.path == old {
		t.Fatalf("no new named cache file: %+v", s.f)
	}
	if _, err := os.Stat(s.f.path); err != nil {
		t.Fatalf("the new cache file: %v", err)
	}
	buf := make([]byte, 5000)
	for i, want := range []bool{false, false, true} {
		n, ok := c.Read(key(i), buf, 0)
		if ok != want || ok && (n != 5000 || !bytes.Equal(buf, chunk(i))) {
			t.Errorf("chunk %d: ok %v (want %v), %d bytes", i, ok, want, n)
		}
	}
	if used := s.Used(); used != s.roundUp(5000) {
		t.Errorf("used %d after the new file's one chunk, want %d", used, s.roundUp(5000))
	}
	c.Store(key(0), chunk(0))
	if n, ok := c.Read(key(0), buf, 0); !ok || n != 5000 || !bytes.Equal(buf, chunk(0)) {
		t.Errorf("chunk 0 stored again: ok %v, %d bytes", ok, n)
	}
	c.Release()
	s.Close()
}

// heldDeleted reports whether this process holds path open though it was
// deleted, as /proc/self/fd shows it.
func heldDeleted(t *testing.T, path string) bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == path+" (deleted)" {
			return true
		}
	}
	return false
}
