package logline_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// TestCursorEncoding: the layout of a cursor, round trips, white space,
// short and long cursors, and malformed ones.
func TestCursorEncoding(t *testing.T) {
	c := logline.Cursor{{Gen: 1, Offset: 2}, {Gen: 1<<64 - 1, Offset: 1 << 63}, {}}
	s := c.String()
	if s != testutil.EncodeCursor(c[0], c[1], c[2]) || len(s) != logline.CursorLen {
		t.Fatalf("String() = %q, want %q", s, testutil.EncodeCursor(c[0], c[1], c[2]))
	}
	raw, _ := base64.StdEncoding.DecodeString(s)
	if len(raw) != 49 || raw[0] != 3 || raw[1] != 1 || raw[9] != 2 {
		t.Fatalf("layout %x", raw)
	}
	if b, _ := c.MarshalText(); string(b) != s {
		t.Errorf("MarshalText %q", b)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		var c logline.Cursor
		for i := range c {
			if rng.IntN(4) > 0 {
				c[i] = logline.Pos{Gen: rng.Uint64() | 1, Offset: rng.Uint64() >> rng.IntN(64)}
			}
		}
		got, err := logline.ParseCursor(c.String())
		if err != nil || got != c {
			t.Fatalf("round trip of %v: %v, %v", c, got, err)
		}
	}
	// Surrounding white space (a line read from a file) is ignored.
	if got, err := logline.ParseCursor(" \t" + s + "\n"); err != nil || got != c {
		t.Errorf("with white space: %v, %v", got, err)
	}
	// Fewer positions: the missing ones are (0, 0); more: the extra ignored.
	one := testutil.EncodeCursor(logline.Pos{Gen: 5, Offset: 6})
	if got, err := logline.ParseCursor(one); err != nil || got != (logline.Cursor{{Gen: 5, Offset: 6}}) {
		t.Errorf("one position: %v, %v", got, err)
	}
	if got, err := logline.ParseCursor(testutil.EncodeCursor()); err != nil || got != (logline.Cursor{}) {
		t.Errorf("no position: %v, %v", got, err)
	}
	four := testutil.EncodeCursor(logline.Pos{Gen: 1, Offset: 1}, logline.Pos{Gen: 2, Offset: 2}, logline.Pos{Gen: 3, Offset: 3}, logline.Pos{Gen: 4, Offset: 4})
	if got, err := logline.ParseCursor(four); err != nil || got != (logline.Cursor{{Gen: 1, Offset: 1}, {Gen: 2, Offset: 2}, {Gen: 3, Offset: 3}}) {
		t.Errorf("four positions: %v, %v", got, err)
	}
	for _, bad := range []string{
		"", "   ", "not a cursor", "!!!!", s[:len(s)-2], strings.TrimRight(s, "="), s + "AAAA",
		base64.StdEncoding.EncodeToString([]byte{3, 1, 2}), // count says 3, holds less
		base64.StdEncoding.EncodeToString(append([]byte{1}, make([]byte, 17)...)),
		base64.StdEncoding.EncodeToString(nil),
		testutil.EncodeCursor(logline.Pos{Gen: 0, Offset: 5}),                                   // an offset without a file
		base64.URLEncoding.EncodeToString(append([]byte{1}, bytes.Repeat([]byte{0xfb}, 16)...)), // not the standard alphabet
	} {
		if c, err := logline.ParseCursor(bad); !errors.Is(err, logline.ErrInvalidCursor) {
			t.Errorf("ParseCursor(%q) = %v, %v; want logline.ErrInvalidCursor", bad, c, err)
		}
	}
}
