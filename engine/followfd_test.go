package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// droppedHeld counts this process's descriptors of files under dir that
// were deleted: log files rotation dropped while something holds them.
func droppedHeld(t testing.TB, dir string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting descriptors: %v", err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.HasPrefix(target, dir+"/") && strings.HasSuffix(target, " (deleted)") {
			n++
		}
	}
	return n
}

// rotationStep appends the lines of step i to exec.log and rotates it the
// way microsandbox does. Every other step's lines carry times before the
// previous step's, so that its batch cannot be appended to the follow's
// last part and makes a part of its own.
func rotationStep(d *tdir, i int, want *strings.Builder) {
	ms := 10000 + int64(i)*1000
	if i%2 == 1 {
		ms -= 1500
	}
	for j := range 20 {
		body := fmt.Sprintf("step %03d line %02d %s\n", i, j, strings.Repeat("x", 200))
		d.exec(jl(ms+int64(j), "stdout", body))
		want.WriteString(body)
	}
	d.rotate()
}

// TestFollowReleasesDroppedFiles: a follow handle read by a reader that
// keeps up, over 60 rotations done as microsandbox does them, lets go of
// every file rotation dropped once it has read past the file's bytes: once
// its keeper is done it holds none, and never more than followDroppedMax
// meanwhile, whatever the number of rotations. Its bytes are the model's
// (every line once, in order), and a read back at old offsets gives the
// bytes shown before, from the render cache, after their files went.
func TestFollowReleasesDroppedFiles(t *testing.T) {
	const rotations = 60
	d := newSandboxDir(t)
	var want strings.Builder
	for i := range ChainLen - 1 { // a full chain at the open
		rotationStep(d, i, &want)
	}
	sb := d.openWith(func(h *Home) { h.SetCacheDir(t.TempDir()) })
	logs := filepath.Dir(d.path(ExecLogName))
	fl := openFollower(t, sb, ViewStdout)
	dropSandboxState(sb) // count what the follow holds, not the sandbox's state
	got := fl.read()
	maxHeld := 0
	for i := ChainLen - 1; i < ChainLen-1+rotations; i++ {
		rotationStep(d, i, &want)
		got = append(got, fl.next()...)
		maxHeld = max(maxHeld, droppedHeld(t, logs))
		fl.f.settle()
		if n := droppedHeld(t, logs); n != 0 {
			t.Fatalf("rotation %d: the follow has read everything and still holds %d dropped files", i, n)
		}
	}
	if !bytes.Equal(got, []byte(want.String())) {
		i := firstByteDiff(got, []byte(want.String()))
		t.Fatalf("follow read %d bytes, the model has %d; first difference at %d: %q, want %q", len(got), want.Len(), i, got[i:min(i+80, len(got))], want.String()[i:min(i+80, want.Len())])
	}
	if maxHeld > followDroppedMax {
		t.Errorf("the follow held up to %d descriptors of dropped files over %d rotations, bound %d", maxHeld, rotations, followDroppedMax)
	}
	again := readAllAt(t, fl.f, fl.f.Size(), 64<<10)
	if !bytes.Equal(again, got) {
		t.Errorf("a re-read from offset 0 differs from the bytes shown at %d", firstByteDiff(again, got))
	}
	if n := droppedHeld(t, logs); n != 0 {
		t.Errorf("after the re-read: %d descriptors of dropped files", n)
	}
}

// dropSandboxState releases the state the sandbox holds (its file set and
// indexes), as the idle sweep does.
func dropSandboxState(sb *Sandbox) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.dropState()
}

// TestFollowReleasedWithoutCache: with no render cache, a follow still lets
// dropped files go; a read back into their bytes fails with ErrNotKept
// (EIO through the mount) and never returns other bytes, while the bytes
// still in the chain read as they were shown.
func TestFollowReleasedWithoutCache(t *testing.T) {
	d := newSandboxDir(t)
	var want strings.Builder
	rotationStep(d, 0, &want)
	sb := d.openWith(func(h *Home) { h.SetCacheDir("") })
	logs := filepath.Dir(d.path(ExecLogName))
	fl := openFollower(t, sb, ViewStdout)
	dropSandboxState(sb)
	got := fl.read()
	for i := 1; i <= 2*ChainLen; i++ {
		rotationStep(d, i, &want)
		got = append(got, fl.next()...)
		fl.f.settle()
	}
	if string(got) != want.String() {
		t.Fatalf("follow read %d bytes, the model has %d", len(got), want.Len())
	}
	if n := droppedHeld(t, logs); n != 0 {
		t.Errorf("%d descriptors of dropped files held after the keeper is done", n)
	}
	buf := make([]byte, 100)
	n, err := fl.f.ReadAt(buf, 0)
	if !errors.Is(err, ErrNotKept) || n != 0 {
		t.Errorf("ReadAt(0) of a released part = %d, %v; want 0, ErrNotKept", n, err)
	}
	end := int64(len(got)) - 100
	n, err = fl.f.ReadAt(buf, end)
	if (err != nil && err != io.EOF) || n != 100 || !bytes.Equal(buf, got[end:]) {
		t.Errorf("ReadAt(%d) of the last part = %d, %v: %q; want %q", end, n, err, buf[:n], got[end:])
	}
}

// firstByteDiff returns the first offset where a and b differ.
func firstByteDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// followDroppedMax bounds the dropped files a follow handle whose reader
// keeps up holds before its keeper is done: the files of the part it reads
// and of the part the keeper copies.
const followDroppedMax = 2 * (ChainLen + 2)

// bigChain writes ChainLen-1 rotated exec files of about perFile bytes of
// stdout lines each into d, numbered from 0, and returns their bodies.
func bigChain(d *tdir, perFile int) string {
	var want strings.Builder
	seq := 0
	for f := range ChainLen - 1 {
		var lines []string
		for size := 0; size < perFile; seq++ {
			body := fmt.Sprintf("file %d seq %07d %s\n", f, seq, strings.Repeat("k", 150))
			lines = append(lines, jl(int64(seq), "stdout", body))
			want.WriteString(body)
			size += len(body)
		}
		d.exec(lines...)
		d.rotate()
	}
	return want.String()
}

// TestFollowKeepWhileReading: while the keeper copies a follow's first
// part (4 MiB, the view at the open) out of its files, reads at random
// offsets go on and give the bytes shown; under a render cache budget too
// small for all of it, every read back gives the bytes shown or fails with
// ErrNotKept, never other bytes.
func TestFollowKeepWhileReading(t *testing.T) {
	for _, budget := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("budget=%d", budget), func(t *testing.T) {
			d := newSandboxDir(t)
			want := bigChain(d, 1<<20)
			sb := d.openWith(func(h *Home) { h.SetCacheDir(t.TempDir()); h.SetCacheBudget(budget) })
			fl := openFollower(t, sb, ViewStdout)
			dropSandboxState(sb)
			shown := fl.read()
			d.exec(jl(1e7, "stdout", "after\n"))
			d.rotate()
			shown = append(shown, fl.next()...)
			if string(shown) != want+"after\n" {
				t.Fatalf("follow read %d bytes, want %d", len(shown), len(want)+6)
			}
			var wg sync.WaitGroup
			errc := make(chan error, 2)
			for g := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errc <- readBackRandomly(fl.f, shown, uint64(g), budget == 0)
				}()
			}
			wg.Wait()
			for range 2 {
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
			}
			fl.f.settle()
			if n := droppedHeld(t, filepath.Dir(d.path(ExecLogName))); n != 0 {
				t.Errorf("after the keeper: %d dropped files held", n)
			}
			if copied := fl.f.keep.log.size - fl.f.keep.log.base; budget == 0 && copied > int64(len(shown))/8 {
				t.Errorf("the keeper copied %d of %d bytes: the view at the open is read from the index's cache, only its tail is copied", copied, len(shown))
			}
			if err := readBackRandomly(fl.f, shown, 9, budget == 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// readBackRandomly reads 200 random stretches of f and compares them with
// shown; with whole, a read must succeed, else it may fail with ErrNotKept.
func readBackRandomly(f *Follow, shown []byte, seed uint64, whole bool) error {
	rng := rand.New(rand.NewPCG(seed, 7))
	buf := make([]byte, 100<<10)
	for range 200 {
		off := rng.Int64N(int64(len(shown)))
		n, err := f.ReadAt(buf[:rng.IntN(len(buf))+1], off)
		if err != nil && err != io.EOF && (whole || !errors.Is(err, ErrNotKept)) {
			return fmt.Errorf("ReadAt(%d): %w", off, err)
		}
		if !bytes.Equal(buf[:n], shown[off:off+int64(n)]) {
			return fmt.Errorf("ReadAt(%d) gave %d bytes that differ from those shown", off, n)
		}
	}
	return nil
}

// TestFollowCloseWhileKeeping: a follow closed while its keeper copies a
// 4 MiB part waits for the copy to stop, and leaves no file held.
func TestFollowCloseWhileKeeping(t *testing.T) {
	d := newSandboxDir(t)
	bigChain(d, 1<<20)
	sb := d.openWith(func(h *Home) { h.SetCacheDir(t.TempDir()) })
	f, err := sb.OpenFollow(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	dropSandboxState(sb)
	fl := &follower{t: t, f: f}
	fl.read()
	d.exec(jl(1e7, "stdout", "after\n"))
	d.rotate()
	fl.next() // marks the first part: the keeper starts
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if n := droppedHeld(t, filepath.Dir(d.path(ExecLogName))); n != 0 {
		t.Errorf("after Close: %d dropped files held", n)
	}
	if _, err := f.Advance(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Advance after Close: %v, want os.ErrClosed", err)
	}
}

// TestFollowPartsBounded: 1,000 batches that cannot be appended to one
// another (each steps back in time) and no rotation: the follow keeps its
// read-past parts once there are more than maxReadParts, so its part list
// stays bounded; its bytes, read as they come and read again from 0, are
// the model's.
func TestFollowPartsBounded(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(1000, "stdout", "first\n"))
	sb := d.openWith(func(h *Home) { h.SetCacheDir(t.TempDir()) })
	fl := openFollower(t, sb, ViewStdout)
	got, want := fl.read(), "first\n"
	most := 0
	for i := range 1000 {
		body := fmt.Sprintf("batch %04d\n", i)
		d.exec(jl(int64(100000+i*10-15*(i%2)), "stdout", body))
		want += body
		got = append(got, fl.next()...)
		fl.f.settle()
		fl.f.mu.Lock()
		most = max(most, len(fl.f.parts))
		fl.f.mu.Unlock()
	}
	if string(got) != want {
		t.Fatalf("follow read %d bytes, the model has %d", len(got), len(want))
	}
	if bound := 64 + 2; most > bound { // maxReadParts read past, one being read, one new
		t.Errorf("the follow held up to %d parts, bound %d", most, bound)
	}
	if again := readAllAt(t, fl.f, fl.f.Size(), 4<<10); string(again) != want {
		t.Errorf("a re-read from 0 differs from the bytes shown at %d", firstByteDiff(again, []byte(want)))
	}
}

// BenchmarkFollowRotations: one op is a step of a follower of merged over
// a rotating sandbox: 64 KiB of stdout lines and a late runtime line
// appended, exec.log rotated, the follow advanced and read to its end. The
// keep case lets dropped files go (copying what was read into the render
// cache); hold, the reference, keeps every file open instead. Compare
// their cpu-ms/op within one run.
func BenchmarkFollowRotations(b *testing.B) {
	for _, c := range []struct {
		name string
		hold bool
	}{{"keep", false}, {"hold", true}} {
		b.Run(c.name, func(b *testing.B) {
			d := mkSandbox(b, newHomeDir(b), "sb")
			sb := d.openWith(func(h *Home) { h.SetCacheDir(b.TempDir()) })
			fl := openFollower(b, sb, ViewMerged)
			fl.f.keep.holdAll = c.hold
			fl.read()
			lines := make([]string, 0, 300)
			done := cpuMeter(b)
			b.ResetTimer()
			for i := range b.N {
				lines = lines[:0]
				for j := range 300 {
					lines = append(lines, jl(int64(i*1000+j), "stdout", fmt.Sprintf("step %d line %d %s\n", i, j, strings.Repeat("b", 180))))
				}
				d.exec(lines...)
				d.runtime(rl(int64(i*1000-500), "INFO late"))
				d.rotate()
				fl.next()
			}
			fl.f.settle()
			b.StopTimer()
			done()
		})
	}
}
