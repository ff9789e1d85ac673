package engine

import (
	"math/bits"
	"sync"
)

// Buffers larger than a read chunk — a scanner's buffer grown for a long
// line, a parser's scratch for a long body — are recycled by power-of-two
// size class, so that the next long line of any reader reuses one instead
// of allocating it again. An allocation that large is zeroed and faulted in
// page by page: on the benchmark corpus (two 1 MiB lines per 64 MiB) the
// scanner's growth chain alone was 8.5 MB per read and a tenth of its CPU
// (memclr, madvise, page faults). A sync.Pool keeps nothing that two
// garbage collections find unused, so the pools hold memory only while long
// lines are being read.
const (
	minPoolShift = 17 // 128 KiB: the smallest class (twice readChunk)
	maxPoolShift = 25 // 32 MiB: the largest (a scanner's buffer holds MaxLineLen+1+readChunk)
)

var bufPools [maxPoolShift - minPoolShift + 1]sync.Pool

// poolClass returns the class of a buffer of n bytes: the index of the
// smallest class at least n, and whether n is within the classes.
func poolClass(n int) (int, bool) {
	if n <= 1<<minPoolShift {
		return 0, true
	}
	shift := bits.Len(uint(n - 1))
	return shift - minPoolShift, shift <= maxPoolShift
}

// getBuf returns a buffer of length n. Its capacity is n rounded up to its
// class, so that putBuf can file it; above the largest class it is exact.
// Its content is undefined.
func getBuf(n int) []byte {
	class, ok := poolClass(n)
	if !ok {
		return make([]byte, n)
	}
	if p, _ := bufPools[class].Get().(*[]byte); p != nil {
		return (*p)[:n]
	}
	return make([]byte, n, 1<<(class+minPoolShift))
}

// putBuf gives b back for reuse; b must not be used after. A buffer whose
// capacity is not exactly a class size (not made by getBuf) is left to the
// garbage collector.
func putBuf(b []byte) {
	c := cap(b)
	class, ok := poolClass(c)
	if !ok || c != 1<<(class+minPoolShift) {
		return
	}
	b = b[:0]
	bufPools[class].Put(&b)
}
