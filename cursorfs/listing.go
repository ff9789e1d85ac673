package cursorfs

import (
	"sync"
	"time"
)

// listings gives directories a modification time that moves only when
// what they list changes. It keeps, per directory that has been stat-ed,
// a 64-bit sum of its listing and its time: 40 bytes and the sandbox's
// name. It keeps at most maxListings; past that it forgets them all and
// later ones start at the time of forgetting, so no time moves back.
// Safe for concurrent use.
type listings struct {
	start time.Time // the mount's start: the first time of every directory
	now   func() time.Time

	mu   sync.Mutex
	base time.Time // the time of a directory seen for the first time
	m    map[listingKey]listing
}

// maxListings bounds the directories listings keeps.
const maxListings = 1 << 16

// listingKey names a directory: its kind and sandbox.
type listingKey struct {
	kind    dirKind
	sandbox string
}

type listing struct {
	sum   uint64
	mtime time.Time
}

func newListings(now func() time.Time) *listings {
	t := now()
	return &listings{start: t, now: now, base: t, m: make(map[listingKey]listing)}
}

// observe records the current listing of k, summed up by sum, and returns
// the directory's time.
func (l *listings) observe(k listingKey, sum uint64) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	old, seen := l.m[k]
	switch {
	case !seen:
		if len(l.m) >= maxListings {
			clear(l.m)
			l.base = l.now()
		}
		old.mtime = l.base
	case old.sum != sum:
		old.mtime = l.now()
	}
	l.m[k] = listing{sum: sum, mtime: old.mtime}
	return old.mtime
}

// held returns how many directories l keeps (for tests).
func (l *listings) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// sumNames returns a sum of the names and kinds of ents, in order: the
// FNV-1a hash of each name followed by 0 and 1 for a directory, 0 and 0
// for a file.
func sumNames(ents []DirEntry) uint64 {
	h := uint64(fnvOffset)
	for _, e := range ents {
		h = fnvString(h, e.Name)
		h = fnvByte(h, 0)
		if e.Dir {
			h = fnvByte(h, 1)
		} else {
			h = fnvByte(h, 0)
		}
	}
	return h
}

// The 64-bit FNV-1a hash (hash/fnv's New64a), computed in place: the
// inode numbers and listing sums hashed at every lookup and listing
// allocate nothing.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime }

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = fnvByte(h, s[i])
	}
	return h
}

// rootIno is the root's inode number, as FUSE has it.
const rootIno = 1

// inoTag keeps the inode numbers of different kinds of directories and of
// files apart.
func inoTag(k dirKind) byte { return byte(k) + 1 }

// fileTag is the inoTag of files.
const fileTag = 0x80

// inoOf returns the inode number of the object tag names in sandbox (session,
// and name for a file): a hash of them, so that it is the same for the
// mount's life and across mounts without a table that grows with every object
// met, and any number of files fits a directory. The numbers lie in
// [2, 2^63), below go-fuse's automatic ones; two objects share one with a
// chance of about n²/2^64 for n objects (3·10^-9 for the 230,001 files and
// directories of 10,000 sandboxes).
//
// What is hashed, in order: the tag, the sandbox's name, a 0 byte, the
// session as 8 bytes little-endian, and the name.
func inoOf(tag byte, sandbox string, session uint64, name string) uint64 {
	h := fnvByte(fnvOffset, tag)
	h = fnvString(h, sandbox)
	h = fnvByte(h, 0)
	for i := range 8 {
		h = fnvByte(h, byte(session>>(8*i)))
	}
	h = fnvString(h, name)
	return 2 + h%(1<<63-2)
}
