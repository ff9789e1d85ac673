package logline

import "bytes"

const Esc = 0x1b

// StripANSI removes ANSI escape sequences from b in place and returns the
// shortened slice: CSI (ESC [ … final byte 0x40–0x7E), OSC (ESC ] … BEL or
// ESC \) and two-byte ESC X sequences. An unterminated sequence at the end of
// b is removed up to the end.
func StripANSI(b []byte) []byte {
	i := bytes.IndexByte(b, Esc)
	if i < 0 {
		return b
	}
	w := i
	for i < len(b) {
		if b[i] != Esc {
			b[w] = b[i]
			w++
			i++
			continue
		}
		i = SkipEscape(b, i)
	}
	return b[:w]
}

// SkipEscape returns the index just past the escape sequence at b[i].
func SkipEscape(b []byte, i int) int {
	if i+1 >= len(b) {
		return len(b)
	}
	switch b[i+1] {
	case '[':
		for j := i + 2; j < len(b); j++ {
			if b[j] >= 0x40 && b[j] <= 0x7e {
				return j + 1
			}
		}
		return len(b)
	case ']':
		for j := i + 2; j < len(b); j++ {
			if b[j] == 0x07 {
				return j + 1
			}
			if b[j] == Esc && j+1 < len(b) && b[j+1] == '\\' {
				return j + 2
			}
		}
		return len(b)
	}
	return i + 2
}
