package cursorfs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// result is what a Read in a goroutine returned.
type result struct {
	n   int
	err error
	at  time.Time
}

// blockedRead starts a blocking read at off and waits until it waits at
// the end of f; a read that returns instead fails the test.
func blockedRead(t *testing.T, ctx context.Context, f *followHandle, off int64) <-chan result {
	t.Helper()
	before := f.waiting.Load()
	ch := make(chan result, 1)
	go func() {
		n, err := f.Read(ctx, make([]byte, 4096), off, false)
		ch <- result{n, err, time.Now()}
	}()
	var returned *result
	waitFor(t, 5*time.Second, "the read to block", func() bool {
		select {
		case r := <-ch:
			returned = &r
			return true
		default:
			return f.waiting.Load() > before
		}
	})
	if returned != nil {
		t.Fatalf("read at the end returned at once: %d, %v", returned.n, returned.err)
	}
	return ch
}

func wait(t *testing.T, ch <-chan result, d time.Duration) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(d):
		t.Fatalf("blocked read still blocked after %v", d)
	}
	return result{}
}

func openFollow(t *testing.T, b *testBox, v engine.View) *followHandle {
	t.Helper()
	f, err := b.fs.openFollow(b.sb, v)
	must(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func TestFollowReadsThenBlocksThenGetsAppends(t *testing.T) {
	b := newBox(t, "box", 100, 0)
	f := openFollow(t, b, engine.ViewStdout)
	old := stdout(0, 100)
	if f.Size() != int64(len(old)) {
		t.Fatalf("size %d, want %d", f.Size(), len(old))
	}
	if got := followUntil(t, f, 0, len(old), time.Second); !bytes.Equal(got, old) {
		t.Fatal("the view as of the open differs")
	}
	ch := blockedRead(t, context.Background(), f, int64(len(old)))
	start := time.Now()
	b.write(1)
	r := wait(t, ch, 2*time.Second)
	if r.err != nil || r.n != len(line(100)) {
		t.Fatalf("read after append: %d, %v", r.n, r.err)
	}
	t.Logf("woken %v after the append", r.at.Sub(start))
}

func TestFollowNonblockEAGAIN(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	f := openFollow(t, b, engine.ViewMerged)
	_, err := f.Read(context.Background(), make([]byte, 10), f.Size(), true)
	if !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("non-blocking read at the end: %v, want EAGAIN", err)
	}
	b.write(1)
	waitFor(t, 2*time.Second, "the append to show", func() bool {
		n, err := f.Read(context.Background(), make([]byte, 4096), f.Size()-1, true)
		return err == nil && n > 0
	})
}

func TestFollowSizeGrowsWithoutRead(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	f := openFollow(t, b, engine.ViewStdout)
	before := f.Size()
	b.write(3)
	if got, want := f.Size(), before+int64(len(stdout(10, 13))); got != want {
		t.Fatalf("size after appends %d, want %d", got, want)
	}
}

func TestFollowInterruptedEINTR(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	f := openFollow(t, b, engine.ViewMerged)
	ctx, cancel := context.WithCancel(context.Background())
	ch := blockedRead(t, ctx, f, f.Size())
	start := time.Now()
	cancel()
	r := wait(t, ch, time.Second)
	if !errors.Is(r.err, syscall.EINTR) {
		t.Fatalf("interrupted read: %d, %v; want EINTR", r.n, r.err)
	}
	if d := r.at.Sub(start); d > 100*time.Millisecond {
		t.Fatalf("interrupted read returned after %v", d)
	}
}

func TestFollowShutdownEOF(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	var chs []<-chan result
	for _, v := range []engine.View{engine.ViewMerged, engine.ViewStdout, engine.ViewSystem} {
		f := openFollow(t, b, v)
		chs = append(chs, blockedRead(t, context.Background(), f, f.Size()))
	}
	b.fs.Shutdown()
	b.fs.Shutdown() // idempotent
	for _, ch := range chs {
		if r := wait(t, ch, time.Second); r.n != 0 || r.err != nil {
			t.Fatalf("read at shutdown: %d, %v; want end of file", r.n, r.err)
		}
	}
	f := openFollow(t, b, engine.ViewMerged)
	if n, err := f.Read(context.Background(), make([]byte, 10), f.Size(), false); n != 0 || err != nil {
		t.Fatalf("read at the end after shutdown: %d, %v", n, err)
	}
}

func TestFollowCloseEndsBlockedRead(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	f := openFollow(t, b, engine.ViewMerged)
	ch := blockedRead(t, context.Background(), f, f.Size())
	must(t, f.Close())
	if r := wait(t, ch, time.Second); r.n != 0 || r.err != nil {
		t.Fatalf("read at close: %d, %v", r.n, r.err)
	}
	if n, err := f.Read(context.Background(), make([]byte, 10), 0, false); n != 0 || err != nil {
		t.Fatalf("read after close: %d, %v", n, err)
	}
}

func TestFollowRemovedSandboxEOF(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	f := openFollow(t, b, engine.ViewMerged)
	ch := blockedRead(t, context.Background(), f, f.Size())
	must(t, b.w.Close())
	must(t, os.RemoveAll(filepath.Join(b.dir, "sandboxes", "box")))
	if r := wait(t, ch, 3*time.Second); r.n != 0 || r.err != nil {
		t.Fatalf("read of a removed sandbox: %d, %v; want end of file", r.n, r.err)
	}
}

// TestFollowEveryLineOnce follows stdout while a writer appends about
// 10,000 lines/s and rotates every 256 KiB (eight rotations): every line
// arrives exactly once, in order.
func TestFollowEveryLineOnce(t *testing.T) {
	b := newBox(t, "box", 0, 256<<10)
	f := openFollow(t, b, engine.ViewStdout)
	const total = 20000
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < total; i++ {
			c := msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: []byte(line(i)), ID: 1, HasID: true}
			if err := b.w.Exec(c); err != nil {
				errc <- err
				return
			}
			if i%10 == 9 {
				time.Sleep(time.Millisecond)
			}
		}
		errc <- nil
	}()
	want := stdout(0, total)
	got := followUntil(t, f, 0, len(want), 30*time.Second)
	must(t, <-errc)
	if !bytes.Equal(got, want) {
		t.Fatalf("followed %d bytes differ from the %d written", len(got), len(want))
	}
}
