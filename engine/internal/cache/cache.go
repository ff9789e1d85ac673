package cache

import (
	"container/list"
	"log/slog"
	"os"
	"sync"
)

// Cache keeps rendered chunks of one index's views — the bytes of one
// view between two consecutive checkpoints — in the home's Store, so
// that reading a view again costs a pread from the page cache instead of
// parsing and rendering. A chunk is keyed by the serial numbers of the two
// checkpoints around it: the index never gives a serial twice, so a chunk
// that a re-merge changed is simply a different key, and a snapshot that
// still holds the old checkpoints still finds its own bytes. A new index
// (after a rebuild or an eviction) gets a new Cache, so its serials,
// which start again at 1, never meet the old keys.
//
// Ownership: the index holds one reference and every segment made from it
// one more; the last release frees every chunk of the cache at once. A
// nil *Cache is a cache that keeps nothing. Safe for concurrent use.
type Cache struct {
	pool   *Store
	refs   int                 // guarded by store.mu
	chunks map[Key]*cacheChunk // guarded by store.mu
}

// Key names a chunk: the bytes of the view in Slot of an index between its
// checkpoints with serials From and To.
type Key struct {
	From, To uint64 // checkpoint serials
	Slot     int
	ByID     bool   // a session view's chunk: only session id's entries
	ID       uint64 // the session, when byID
}

// cacheChunk is one stored chunk: n bytes at off of the store's file, in an
// extent of alloc bytes (whole blocks). All fields are guarded by store.mu.
type cacheChunk struct {
	owner *Cache
	key   Key
	off   int64
	n     int
	alloc int64
	pins  int           // reads in progress: not evicted meanwhile
	el    *list.Element // in store.lru
}

// Acquire takes one more reference.
func (c *Cache) Acquire() {
	if c == nil {
		return
	}
	c.pool.mu.Lock()
	c.refs++
	c.pool.mu.Unlock()
}

// Release drops one reference; the last frees every chunk.
func (c *Cache) Release() {
	if c == nil {
		return
	}
	s := c.pool
	s.mu.Lock()
	defer s.mu.Unlock()
	c.refs--
	if c.refs > 0 {
		return
	}
	for _, ch := range c.chunks {
		s.drop(ch)
	}
	s.caches--
	s.closeIfDone()
}

// Read copies chunk k's bytes from off within the chunk into p. ok is false
// when the chunk is not stored (or could not be read): the caller renders.
func (c *Cache) Read(k Key, p []byte, off int64) (n int, ok bool) {
	s := c.pool
	s.mu.Lock()
	ch := c.chunks[k]
	if ch == nil || off < 0 || off >= int64(ch.n) {
		s.mu.Unlock()
		return 0, false
	}
	s.lru.MoveToFront(ch.el)
	ch.pins++
	at, want := ch.off+off, min(int64(len(p)), int64(ch.n)-off)
	f := s.f
	s.mu.Unlock()

	n, err := f.ReadAt(p[:want], at)

	s.mu.Lock()
	ch.pins--
	s.mu.Unlock()
	return n, err == nil || n == int(want)
}

// Store keeps data as chunk k, unless it is there already, the budget
// cannot make room for it, or the write fails (a full disk): a chunk not
// kept only costs a render at its next read.
func (c *Cache) Store(k Key, data []byte) {
	s := c.pool
	s.mu.Lock()
	if _, ok := c.chunks[k]; ok || c.refs <= 0 {
		s.mu.Unlock()
		return
	}
	s.retireIfUnlinked()
	if !s.open() {
		s.mu.Unlock()
		return
	}
	alloc := s.roundUp(int64(len(data)))
	off, ok := s.reserve(alloc)
	f, gen := s.f, s.gen
	s.mu.Unlock()
	if !ok {
		return
	}

	_, err := f.WriteAt(data, off)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen { // the file was retired meanwhile, with its space
		return
	}
	if _, dup := c.chunks[k]; err != nil || dup || c.refs <= 0 {
		s.unreserve(off, alloc)
		return
	}
	ch := &cacheChunk{owner: c, key: k, off: off, n: len(data), alloc: alloc}
	ch.el = s.lru.PushFront(ch)
	c.chunks[k] = ch
}

// Store is the render cache of a Home: one file that holds the chunks
// of every Cache, within a budget of allocated bytes. Space is
// counted in whole blocks; the least recently read chunk goes first; a
// freed chunk's blocks are punched out of the file (so the disk gets them
// back) and reused by later chunks. Safe for concurrent use.
type Store struct {
	Dir    string // where the cache directory is made
	Budget int64  // bytes the file may hold allocated

	mu      sync.Mutex
	f       *cacheFile // nil until the first chunk is stored
	gen     uint64     // counts the files retired (retireIfUnlinked)
	broken  bool       // the file could not be made: nothing is kept
	closed  bool       // the home closed: no new cache
	caches  int        // Caches not yet fully released
	used    int64      // bytes allocated to chunks and writes in flight
	end     int64      // the file's high-water mark
	free    []extent   // freed extents below end, sorted, merged
	lru     list.List  // of *cacheChunk, most recently used first
	noPunch bool       // the filesystem cannot punch holes
}

// extent is a block-aligned stretch of the cache file.
type extent struct{ off, n int64 }

// NewStore returns a store that makes its file under dir, at the first
// chunk stored, and keeps at most budget bytes allocated in it.
func NewStore(dir string, budget int64) *Store {
	return &Store{Dir: dir, Budget: budget}
}

// NewCache returns a new, empty Cache with one reference, or nil when
// the store keeps nothing.
func (s *Store) NewCache() *Cache {
	if s == nil || s.Dir == "" || s.Budget <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.broken {
		return nil
	}
	s.caches++
	return &Cache{pool: s, refs: 1, chunks: make(map[Key]*cacheChunk)}
}

// roundUp returns n in whole blocks of the cache file.
func (s *Store) roundUp(n int64) int64 {
	b := s.f.block
	return (n + b - 1) / b * b
}

// reserve finds alloc bytes for a chunk, evicting the least recently used
// chunks as long as the budget or the file's room demands. Called with
// s.mu held.
func (s *Store) reserve(alloc int64) (int64, bool) {
	if alloc <= 0 || alloc > s.Budget {
		return 0, false
	}
	for {
		if s.used+alloc <= s.Budget {
			if off, ok := s.takeFree(alloc); ok {
				s.used += alloc
				return off, true
			}
			if s.end+alloc <= s.maxEnd() {
				off := s.end
				s.end += alloc
				s.used += alloc
				return off, true
			}
		}
		if !s.evictOne() {
			return 0, false
		}
	}
}

// maxEnd bounds the file's size: twice the budget where freed blocks are
// punched out (allocated bytes stay within the budget, the apparent size
// leaves room for fragments), the budget itself where they cannot be.
func (s *Store) maxEnd() int64 {
	if s.noPunch {
		return s.Budget
	}
	return 2 * s.Budget
}

// evictOne drops the least recently used chunk that no read holds.
func (s *Store) evictOne() bool {
	for el := s.lru.Back(); el != nil; el = el.Prev() {
		if ch := el.Value.(*cacheChunk); ch.pins == 0 {
			s.drop(ch)
			return true
		}
	}
	return false
}

// drop frees a chunk's blocks. Called with s.mu held.
func (s *Store) drop(ch *cacheChunk) {
	delete(ch.owner.chunks, ch.key)
	s.lru.Remove(ch.el)
	s.unreserve(ch.off, ch.alloc)
}

// unreserve gives an extent back: its blocks are punched out of the file
// and it joins the free list. Called with s.mu held.
func (s *Store) unreserve(off, n int64) {
	s.used -= n
	if !s.noPunch && s.f.punch(off, n) != nil {
		s.noPunch = true
	}
	s.addFree(extent{off, n})
	if s.used == 0 { // nothing stored: start the file afresh
		s.free, s.end = nil, 0
	}
}

// takeFree takes alloc bytes from the first free extent that holds them.
func (s *Store) takeFree(alloc int64) (int64, bool) {
	for i, e := range s.free {
		if e.n < alloc {
			continue
		}
		if e.n == alloc {
			s.free = append(s.free[:i], s.free[i+1:]...)
		} else {
			s.free[i] = extent{e.off + alloc, e.n - alloc}
		}
		return e.off, true
	}
	return 0, false
}

// addFree inserts e into the free list, merging it with its neighbours; a
// free extent that reaches the end lowers the end instead.
func (s *Store) addFree(e extent) {
	i := 0
	for i < len(s.free) && s.free[i].off < e.off {
		i++
	}
	s.free = append(s.free, extent{})
	copy(s.free[i+1:], s.free[i:])
	s.free[i] = e
	if i+1 < len(s.free) && s.free[i].off+s.free[i].n == s.free[i+1].off {
		s.free[i].n += s.free[i+1].n
		s.free = append(s.free[:i+1], s.free[i+2:]...)
	}
	if i > 0 && s.free[i-1].off+s.free[i-1].n == s.free[i].off {
		s.free[i-1].n += s.free[i].n
		s.free = append(s.free[:i], s.free[i+1:]...)
		i--
	}
	if last := s.free[i]; i == len(s.free)-1 && last.off+last.n == s.end {
		s.end = last.off
		s.free = s.free[:i]
	}
}

// retireIfUnlinked drops every chunk and closes the file when its name
// has gone (the cache directory deleted under a running mount: the
// deleted file would hold its disk space until exit), so that the next
// chunk stored starts a new file. Reads in progress on the old file fail
// and render instead; writes in progress see the generation change and
// are not kept. Called with s.mu held, before each chunk is stored.
func (s *Store) retireIfUnlinked() {
	if s.f == nil || !s.f.unlinked() {
		return
	}
	slog.Warn("render cache file deleted: starting a new one", "file", s.f.path)
	for el := s.lru.Front(); el != nil; el = el.Next() {
		ch := el.Value.(*cacheChunk)
		delete(ch.owner.chunks, ch.key)
	}
	s.lru.Init()
	s.used, s.end, s.free, s.noPunch = 0, 0, nil, false
	s.f.close()
	s.f = nil
	s.gen++
}

// Used returns the bytes the cache holds allocated, in whole blocks.
func (s *Store) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Close stops new caches and removes the cache file's name; the file
// itself is closed once the last cache is released.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.f != nil {
		s.f.unlink()
	}
	s.closeIfDone()
}

// closeIfDone closes the file of a closed store that no cache uses.
func (s *Store) closeIfDone() {
	if s.closed && s.caches == 0 && s.f != nil {
		s.f.close()
		s.f = nil
	}
}

// ChunkCount returns how many chunks of the view in slot c holds (slot
// < 0: of any view); 0 for a nil c.
func (c *Cache) ChunkCount(slot int) int {
	if c == nil {
		return 0
	}
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	n := 0
	for k := range c.chunks {
		if slot < 0 || k.Slot == slot {
			n++
		}
	}
	return n
}

// File returns the store's open cache file, or nil.
func (s *Store) File() *os.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	return s.f.f
}

// Drop frees chunk k, if it is stored and no read is copying it out (a
// chunk being read stays until it is evicted or its cache released).
func (c *Cache) Drop(k Key) {
	if c == nil {
		return
	}
	s := c.pool
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := c.chunks[k]; ch != nil && ch.pins == 0 {
		s.drop(ch)
	}
}
