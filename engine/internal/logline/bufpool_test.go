package logline

import (
	"testing"
)

// TestPoolClasses: a buffer from GetBuf has the length asked for and the
// capacity of its class (so PutBuf files it), exact above the classes.
func TestPoolClasses(t *testing.T) {
	for _, tc := range []struct{ n, cap int }{
		{0, 128 << 10}, {1, 128 << 10}, {128 << 10, 128 << 10}, {128<<10 + 1, 256 << 10},
		{1 << 20, 1 << 20}, {4 << 20, 4 << 20}, {4<<20 + 1, 4<<20 + 1}, {MaxLineLen + 1 + ReadChunk, MaxLineLen + 1 + ReadChunk},
	} {
		b := GetBuf(tc.n)
		if len(b) != tc.n || cap(b) != tc.cap {
			t.Errorf("getBuf(%d): len %d cap %d, want cap %d", tc.n, len(b), cap(b), tc.cap)
		}
		PutBuf(b)
	}
	PutBuf(make([]byte, 100<<10)) // not a class size: left to the collector
	PutBuf(nil)
}

// TestPoolBudget: the free lists never hold more than poolBudget bytes,
// however many buffers are given back, and a buffer given back is the
// one the next GetBuf of its class returns.
func TestPoolBudget(t *testing.T) {
	var held [][]byte
	for range 3 {
		for n := 100 << 10; n <= 8<<20; n *= 2 {
			held = append(held, GetBuf(n))
		}
	}
	for _, b := range held {
		PutBuf(b)
		if got := pooledBytes(); got > poolBudget {
			t.Fatalf("the pools hold %d bytes, over the budget of %d", got, poolBudget)
		}
	}
	if pooledBytes() == 0 {
		t.Fatal("nothing was kept")
	}
	b := GetBuf(200 << 10)
	b[0] = 'x'
	PutBuf(b)
	if c := GetBuf(150 << 10); cap(c) != cap(b) || &c[:1][0] != &b[:1][0] {
		t.Fatal("a buffer given back was not reused by the next getBuf of its class")
	}
}

// pooledBytes returns the bytes the free lists hold.
func pooledBytes() int {
	bufPool.mu.Lock()
	defer bufPool.mu.Unlock()
	return bufPool.bytes
}
