package cursorfs

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// TestLiveEndsAndGrows: a live handle shows a follow handle's bytes, a read
// at its end returns 0 at once even with a context that never ends, and
// Stat takes in what was appended, so the size grows; after Close and
// after Shutdown a read is end of file.
func TestLiveEndsAndGrows(t *testing.T) {
	b := newBox(t, "box", 50, 0)
	l, err := b.fs.openLive(b.sb, engine.ViewStdout)
	must(t, err)
	defer l.Close()
	ctx := context.Background() // never done: a live read must not wait for it
	first := readLive(t, l, 0)
	if !bytes.Equal(first, stdout(0, 50)) {
		t.Fatalf("live shows %d bytes, want the 50 lines", len(first))
	}
	if size, _ := l.Stat(); size != int64(len(first)) {
		t.Fatalf("Stat: %d, want %d", size, len(first))
	}
	b.write(3)
	waitFor(t, 5*time.Second, "the live size to grow", func() bool {
		size, _ := l.Stat()
		return size == int64(len(stdout(0, 53)))
	})
	if more := readLive(t, l, int64(len(first))); !bytes.Equal(more, stdout(50, 53)) {
		t.Fatalf("after the append: %q", more)
	}
	if n, err := l.Read(ctx, make([]byte, 10), -1, false); err == nil || n != 0 {
		t.Fatalf("read at -1: %d, %v; want an error", n, err)
	}
	b.fs.Shutdown()
	b.write(1)
	if _, err := l.Read(ctx, make([]byte, 100), int64(len(stdout(0, 53))), false); err != nil {
		t.Fatalf("read at the end after shutdown: %v", err)
	}
	must(t, l.Close())
	if n, err := l.Read(ctx, make([]byte, 100), 0, false); n != 0 || err != nil {
		t.Fatalf("read after Close: %d, %v; want end of file", n, err)
	}
}

// readLive reads l from off until a read returns 0.
func readLive(t *testing.T, l *liveHandle, off int64) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 333)
	for {
		n, err := l.Read(context.Background(), buf, off+int64(len(out)), false)
		must(t, err)
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}
