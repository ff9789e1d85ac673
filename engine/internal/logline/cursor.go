package logline

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Pos is a position in one origin: the inode number of the file it is in
// (its generation) and the offset just past the last line consumed there.
// The zero Pos means "from the start of the origin".
type Pos struct {
	Gen    uint64
	Offset uint64
}

// IsStart reports whether p is the start of its origin.
func (p Pos) IsStart() bool { return p == Pos{} }

// Cursor is a position in every origin, in origin order. Its string form is
// byte-compatible with microsandbox's LogCursor.
type Cursor [NumOrigins]Pos

// ErrInvalidCursor is wrapped by every error about a malformed or foreign
// cursor.
var ErrInvalidCursor = errors.New("invalid cursor")

// CursorLen is the length of an encoded three-origin cursor.
var CursorLen = base64.StdEncoding.EncodedLen(1 + int(NumOrigins)*16)

// String encodes c: standard base64 of [count u8] then count × [gen u64 LE]
// [offset u64 LE].
func (c Cursor) String() string { return string(c.AppendText(nil)) }

// AppendText appends the encoded cursor to b.
func (c Cursor) AppendText(b []byte) []byte {
	var raw [1 + int(NumOrigins)*16]byte
	raw[0] = byte(NumOrigins)
	for i, p := range c {
		binary.LittleEndian.PutUint64(raw[1+16*i:], p.Gen)
		binary.LittleEndian.PutUint64(raw[9+16*i:], p.Offset)
	}
	return base64.StdEncoding.AppendEncode(b, raw[:])
}

// MarshalText implements encoding.TextMarshaler.
func (c Cursor) MarshalText() ([]byte, error) { return c.AppendText(nil), nil }

// ParseCursor decodes a cursor string. Surrounding white space is ignored.
// A cursor with fewer positions than origins gets (0, 0) for the rest;
// positions beyond the known origins are ignored.
func ParseCursor(s string) (Cursor, error) {
	var c Cursor
	s = strings.TrimSpace(s)
	if s == "" {
		return c, fmt.Errorf("%w: empty", ErrInvalidCursor)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return c, fmt.Errorf("%w: not base64: %q", ErrInvalidCursor, truncate(s, 80))
	}
	if len(raw) == 0 || len(raw) != 1+16*int(raw[0]) {
		return c, fmt.Errorf("%w: %d bytes do not hold [count][count×16 bytes]", ErrInvalidCursor, len(raw))
	}
	for i := 0; i < int(raw[0]) && i < int(NumOrigins); i++ {
		c[i].Gen = binary.LittleEndian.Uint64(raw[1+16*i:])
		c[i].Offset = binary.LittleEndian.Uint64(raw[9+16*i:])
		if c[i].Gen == 0 && c[i].Offset != 0 {
			return c, fmt.Errorf("%w: %s offset %d without a file", ErrInvalidCursor, Origin(i), c[i].Offset)
		}
	}
	return c, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
