package logline

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// specialImpl is one implementation of SpecialIndex under test.
type specialImpl struct {
	name string
	fn   func([]byte) (int, bool)
}

// specialIndexBytewise is the definition of SpecialIndex, one byte at a
// time: the oracle every implementation is compared with.
func specialIndexBytewise(b []byte) (int, bool) {
	ascii := true
	for i, c := range b {
		if c == '"' || c == '\\' || c < 0x20 {
			return i, ascii
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return -1, ascii
}

// checkSpecialIndex fails t unless every implementation agrees with the
// oracle on b.
func checkSpecialIndex(t testing.TB, b []byte) {
	t.Helper()
	want, wantASCII := specialIndexBytewise(b)
	for _, impl := range specialImpls() {
		got, gotASCII := impl.fn(b)
		if got != want || gotASCII != wantASCII {
			t.Fatalf("%s(%q) (len %d) = %d, %v; want %d, %v", impl.name, b, len(b), got, gotASCII, want, wantASCII)
		}
	}
}

func TestSpecialIndexOracle(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  int
		ascii bool
	}{
		{"", -1, true},
		{"abc", -1, true},
		{"é", -1, false},
		{`ab"c`, 2, true},
		{"é\"", 2, false},
		{"\"é", 0, true},
		{"a\\b", 1, true},
		{"a\x1fb", 1, true},
		{"a\x20\x7f\x21\x23\x5b\x5d", -1, true},
		{strings.Repeat("x", 40) + "\xff" + strings.Repeat("y", 40) + "\n", 81, false},
		{strings.Repeat("x", 40) + "\n\xff", 40, true},
	} {
		got, ascii := specialIndexBytewise([]byte(tc.in))
		if got != tc.want || ascii != tc.ascii {
			t.Errorf("specialIndexBytewise(%q) = %d, %v; want %d, %v", tc.in, got, ascii, tc.want, tc.ascii)
		}
		checkSpecialIndex(t, []byte(tc.in))
	}
}

// specialTestBytes: the bytes the differential test puts at each position:
// the special bytes, the bytes next to them (a compare off by one) and
// non-ASCII bytes.
var specialTestBytes = []byte{'"', '\\', 0x00, 0x01, '\n', 0x1f, ' ', '!', '#', '[', ']', 0x7f, 'a', 0x80, 0xc3, 0xff}

// TestSpecialIndexDifferential compares every implementation with the
// oracle on each slice b[off:off+n] of a buffer, off 0..32 (every
// alignment) and n 0..100 (all sides of the 8-, 16- and 32-byte windows),
// with each tested byte at each position, a non-ASCII byte before or after
// it, and the buffer outside the slice full of special and non-ASCII
// bytes (which must not count).
func TestSpecialIndexDifferential(t *testing.T) {
	buf := make([]byte, 32+100+32)
	for off := 0; off <= 32; off++ {
		for n := 0; n <= 100; n++ {
			fill := func() []byte {
				for i := range buf {
					buf[i] = "\"\xff"[i%2]
				}
				b := buf[off : off+n]
				for i := range b {
					b[i] = 'a' + byte(i%26)
				}
				return b
			}
			checkSpecialIndex(t, fill())
			for hi := 0; hi < n; hi++ {
				b := fill()
				b[hi] = 0x80 + byte(hi)
				checkSpecialIndex(t, b)
			}
			for p := 0; p < n; p++ {
				b := fill()
				b[p] = specialTestBytes[(off+p)%len(specialTestBytes)] // over the offsets, each byte at each position
				checkSpecialIndex(t, b)
				if p > 0 {
					b[p-1] = 0x80 // right before the hit
					checkSpecialIndex(t, b)
					b[p-1] = 'a'
					b[0] = 0xe9 // far before it
					checkSpecialIndex(t, b)
				}
				if p+1 < n {
					b[p+1] = 0xff // right after it
					checkSpecialIndex(t, b)
					b[n-1] = '"' // a second hit
					checkSpecialIndex(t, b)
				}
			}
		}
	}
}

// TestSpecialIndexInBounds puts b against a page that cannot be read, after
// it and then before it: reading one byte outside b faults.
func TestSpecialIndexInBounds(t *testing.T) {
	page := unix.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 3*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer unix.Munmap(mem)
	if err := unix.Mprotect(mem[:page], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mprotect(mem[2*page:], unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	usable := mem[page : 2*page]
	for i := range usable {
		usable[i] = 'a'
	}
	for n := 0; n <= 100; n++ {
		checkSpecialIndex(t, usable[len(usable)-n:]) // ends at the guard page
		checkSpecialIndex(t, usable[:n])             // starts after the guard page
		usable[len(usable)-1], usable[n] = '"', '\\'
		checkSpecialIndex(t, usable[len(usable)-n:])
		checkSpecialIndex(t, usable[:n])
		usable[len(usable)-1], usable[n] = 'a', 'a'
	}
}

// TestSpecialIndexLong: long runs (a 1 MiB body) with the hit far in, at
// each position around the end.
func TestSpecialIndexLong(t *testing.T) {
	b := bytes.Repeat([]byte("log text, é "), 1<<20/13)
	checkSpecialIndex(t, b)
	checkSpecialIndex(t, b[:len(b)/2*2-1])
	ascii := bytes.Repeat([]byte("abcdefgh"), 1<<17)
	for _, back := range []int{1, 2, 31, 32, 33, 64, 65} {
		ascii[len(ascii)-back] = '\\'
		checkSpecialIndex(t, ascii)
		ascii[len(ascii)-back] = 'a'
	}
}

// FuzzSpecialIndex compares every implementation with the oracle on data
// from each offset 0..100 to its end, and on its first and last n bytes
// for each n 0..100 (every pair of offset and length would be 10,000
// checks an input, 30 times fewer inputs for little more).
//
//	go test -run=NONE -fuzz=FuzzSpecialIndex -fuzztime=30s ./engine/
func FuzzSpecialIndex(f *testing.F) {
	f.Add([]byte(`{"t":"2026-05-01T10:00:00.123Z","s":"stdout","d":"hi\n","id":7}`))
	f.Add([]byte(strings.Repeat("é", 20) + `"`))
	f.Add([]byte(strings.Repeat("a", 31) + "\xff\x1f" + strings.Repeat("b", 40)))
	f.Fuzz(func(t *testing.T, data []byte) {
		for off := 0; off <= 100 && off <= len(data); off++ {
			checkSpecialIndex(t, data[off:])
		}
		for n := 0; n <= 100 && n <= len(data); n++ {
			checkSpecialIndex(t, data[:n])
			checkSpecialIndex(t, data[len(data)-n:])
		}
	})
}

// BenchmarkSpecialIndex: a run of n ASCII bytes of log text, then the
// closing quote and the rest of a line, as decodeString sees it.
func BenchmarkSpecialIndex(b *testing.B) {
	text := strings.Repeat("2026-05-01 building target x86_64: ok ", 4096/38+1)
	for _, n := range []int{16, 64, 256, 4096} {
		in := []byte(text[:n] + `","id":7}`)
		for _, impl := range specialImpls() {
			b.Run(fmt.Sprintf("n=%d/%s", n, impl.name), func(b *testing.B) {
				b.SetBytes(int64(n))
				for b.Loop() {
					if k, _ := impl.fn(in); k != n {
						b.Fatalf("index %d, want %d", k, n)
					}
				}
			})
		}
	}
}
