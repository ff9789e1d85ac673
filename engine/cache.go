package engine

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// renderCache keeps rendered chunks of a stream's views — the bytes of one
// view between two consecutive checkpoints — in an unlinked temporary
// file, so that reading a view again costs a pread from the page cache
// instead of parsing and rendering. A chunk is keyed by the serial numbers
// of the two checkpoints around it: the index never gives a serial twice,
// so a chunk that a re-merge changed is simply a different key, and a
// snapshot that still holds the old checkpoints still finds its own bytes.
// The file is removed by the kernel when the last segment using it is gone.
// Safe for concurrent use.
type renderCache struct {
	f     *os.File
	limit int64

	mu     sync.Mutex
	size   int64
	chunks map[chunkKey]span
}

type chunkKey struct {
	from, to uint64 // checkpoint serials
	slot     int
}

type span struct {
	off int64
	n   int
}

// cacheLimit bounds one cache file; past it, chunks are no longer added.
const cacheLimit = 4 << 30

// newRenderCache returns a cache in dir, or nil if no file can be made
// there (reads then render every time).
func newRenderCache(dir string) *renderCache {
	if dir == "" {
		return nil
	}
	f, err := tempFile(dir)
	if err != nil {
		return nil
	}
	return &renderCache{f: f, limit: cacheLimit, chunks: make(map[chunkKey]span)}
}

// tempFile opens an anonymous file in dir (O_TMPFILE), or creates and
// unlinks one where the filesystem lacks O_TMPFILE.
func tempFile(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), dir+"/(render cache)"), nil
	}
	f, err := os.CreateTemp(dir, ".msb-logfs-cache-*")
	if err != nil {
		return nil, fmt.Errorf("render cache: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

// lookup returns where chunk k is stored.
func (c *renderCache) lookup(k chunkKey) (span, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sp, ok := c.chunks[k]
	return sp, ok
}

// store keeps data as chunk k, unless the file is full or a write fails.
func (c *renderCache) store(k chunkKey, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.chunks[k]; ok || c.size+int64(len(data)) > c.limit {
		return
	}
	if _, err := c.f.WriteAt(data, c.size); err != nil {
		return
	}
	c.chunks[k] = span{off: c.size, n: len(data)}
	c.size += int64(len(data))
}

// readAt reads chunk bytes: sp's bytes from off within the chunk.
func (c *renderCache) readAt(p []byte, sp span, off int64) (int, error) {
	want := min(int64(len(p)), int64(sp.n)-off)
	n, err := c.f.ReadAt(p[:want], sp.off+off)
	if err != nil && n < int(want) {
		return n, fmt.Errorf("render cache: %w", err)
	}
	return n, nil
}
