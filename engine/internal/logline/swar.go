package logline

import (
	"encoding/binary"
	"math/bits"
)

const (
	LSB = 0x0101010101010101
	MSB = 0x8080808080808080
)

// specialIndexGeneric is the portable SpecialIndex: it returns the index of
// the first byte of b that a JSON string cannot hold as is ('"', '\\' or a
// control character), or -1, and whether the bytes before it are all ASCII.
// It tests eight bytes at a time: the lowest flagged byte of each test is
// exact. SpecialIndex (special_amd64.s, special_other.go) picks it or the
// AVX2 version.
func specialIndexGeneric(b []byte) (int, bool) {
	var high uint64
	i := 0
	for len(b)-i >= 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q := w ^ (LSB * '"')
		s := w ^ (LSB * '\\')
		m := ((w - LSB*0x20) &^ w) | ((q - LSB) &^ q) | ((s - LSB) &^ s)
		if m &= MSB; m != 0 {
			k := bits.TrailingZeros64(m) / 8
			high |= w & (1<<(8*k) - 1)
			return i + k, high&MSB == 0
		}
		high |= w
		i += 8
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c < 0x20 || c == '"' || c == '\\' {
			return i, high&MSB == 0
		}
		high |= uint64(c)
	}
	return -1, high&MSB == 0
}
