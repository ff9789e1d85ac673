package logline

import (
	"math/bits"
	"sync"
)

// MaxLineLen is the longest line that is parsed; a longer one is skipped and
// counted without being loaded whole.
const MaxLineLen = 16 << 20

// ReadChunk is the size of a line scanner's read buffer, and of the
// growth below which a decoding buffer is not pooled.
const ReadChunk = 64 << 10

// The buffer pools recycle buffers larger than a read chunk (a scanner's
// buffer grown for a long line, a parser's scratch for a long body) by
// power-of-two size class, so that the next long line of any reader reuses
// one instead of allocating and zeroing it again. The free lists hold at
// most poolBudget bytes in all, and no buffer above the largest class; a
// buffer given back past the budget is left to the garbage collector.
const (
	minPoolShift = 17      // 128 KiB: the smallest class (twice ReadChunk)
	maxPoolShift = 22      // 4 MiB: the largest class kept
	poolBudget   = 8 << 20 // the bytes the free lists hold at most
)

// bufPool is the free lists, shared by every reader of the process.
var bufPool struct {
	mu    sync.Mutex
	free  [maxPoolShift - minPoolShift + 1][][]byte
	bytes int // held in free
}

// poolClass returns the class of a buffer of n bytes: the index of the
// smallest class at least n, and whether n is within the classes.
func poolClass(n int) (int, bool) {
	if n <= 1<<minPoolShift {
		return 0, true
	}
	shift := bits.Len(uint(n - 1))
	return shift - minPoolShift, shift <= maxPoolShift
}

// GetBuf returns a buffer of length n. Within the classes its capacity is
// n rounded up to its class, so that PutBuf can file it; above them it is
// exact. Its content is undefined.
func GetBuf(n int) []byte {
	class, ok := poolClass(n)
	if !ok {
		return make([]byte, n)
	}
	p := &bufPool
	p.mu.Lock()
	if k := len(p.free[class]); k > 0 {
		b := p.free[class][k-1]
		p.free[class][k-1] = nil
		p.free[class] = p.free[class][:k-1]
		p.bytes -= cap(b)
		p.mu.Unlock()
		return b[:n]
	}
	p.mu.Unlock()
	return make([]byte, n, 1<<(class+minPoolShift))
}

// PutBuf gives b back for reuse; b must not be used after. A buffer whose
// capacity is not exactly a class size (not made by GetBuf), or that the
// budget has no room for, is left to the garbage collector.
func PutBuf(b []byte) {
	c := cap(b)
	class, ok := poolClass(c)
	if !ok || c != 1<<(class+minPoolShift) {
		return
	}
	p := &bufPool
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+c > poolBudget {
		return
	}
	p.free[class] = append(p.free[class], b[:0])
	p.bytes += c
}
