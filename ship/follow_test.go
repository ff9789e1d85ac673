package ship_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
	"github.com/microsandbox/msb-logfs/ship"
)

// follow runs a following shipper until the returned stop is called.
func (r *rig) follow(tune func(*ship.Config)) (*ship.Shipper, func()) {
	s, closeAll := r.shipper(false, tune)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	return s, func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				r.t.Error(err)
			}
			closeAll()
		})
	}
}

func TestFollowPicksUpNewSandboxesAndWrites(t *testing.T) {
	r := newRig(t)
	os.MkdirAll(filepath.Join(r.home, "sandboxes"), 0o755)
	a := r.writer("a", 32<<10)
	numbered(t, a, 0, 100)
	_, stop := r.follow(nil)
	waitUntil(t, 10*time.Second, "a's first records", func() bool { return len(r.sink.all()) >= 100 })
	b := r.writer("b", 32<<10)
	numbered(t, b, 0, 100)
	numbered(t, a, 100, 1000) // rotates
	waitUntil(t, 10*time.Second, "everything", func() bool { return len(r.sink.all()) >= 1100 })
	stop()
	expectEach(t, r.sink.all(), "a", 1000, 1)
	expectEach(t, r.sink.all(), "b", 100, 1)
}

// Stopping (SIGTERM's context) finishes and checkpoints the batch in
// flight: a restart sends each record exactly once.
func TestStopAndRestartShipsEachRecordOnce(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 64<<10)
	written := 0
	for range 4 {
		_, stop := r.follow(func(c *ship.Config) { c.BatchRecords = 50 })
		numbered(t, w, written, written+700)
		written += 700
		time.Sleep(30 * time.Millisecond)
		stop()
	}
	r.runOnce(nil)
	expectEach(t, r.sink.all(), "foo", written, 1)
}

func TestSandboxRemovedWhileShipped(t *testing.T) {
	r := newRig(t)
	os.MkdirAll(filepath.Join(r.home, "sandboxes"), 0o755)
	gone := r.writer("gone", 0)
	stay := r.writer("stay", 0)
	numbered(t, gone, 0, 100)
	numbered(t, stay, 0, 100)
	_, stop := r.follow(nil)
	defer stop()
	waitUntil(t, 10*time.Second, "first records", func() bool { return len(r.sink.all()) >= 200 })
	gone.Close()
	if err := os.RemoveAll(filepath.Join(r.home, "sandboxes", "gone")); err != nil {
		t.Fatal(err)
	}
	numbered(t, stay, 100, 200)
	waitUntil(t, 10*time.Second, "stay's later records", func() bool { return len(r.sink.all()) >= 300 })
	waitUntil(t, 10*time.Second, "the removal logged", func() bool { return strings.Contains(r.log.String(), "sandbox removed") })
	// Made again under the same name: a new sandbox, shipped from its start.
	again := r.writer("gone", 0)
	numbered(t, again, 0, 10)
	waitUntil(t, 10*time.Second, "the new sandbox", func() bool { return len(r.sink.all()) >= 310 })
	stop()
	expectEach(t, r.sink.all(), "stay", 200, 1)
	count, _, _ := numbersOf(r.sink.all(), "gone")
	if count[0] != 2 || count[9] != 2 || count[50] != 1 {
		t.Errorf("gone: rec 0 x%d, rec 9 x%d, rec 50 x%d; want 2, 2, 1 (the old sandbox's and the new one's)", count[0], count[9], count[50])
	}
}

func TestHugeRecord16MiB(t *testing.T) {
	r := newRig(t)
	w := r.writer("big", 0)
	numbered(t, w, 0, 10)
	huge := bytes.Repeat([]byte("0123456789abcdef"), 1<<20-64) // a line just under 16 MiB, the engine's line limit
	if err := w.Exec(msbwriter.Chunk{Time: time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC), Source: "stdout", Data: huge}); err != nil {
		t.Fatal(err)
	}
	numbered(t, w, 10, 20)
	r.runOnce(nil)
	recs := r.sink.all()
	expectEach(t, recs, "big", 20, 1)
	found := false
	for _, g := range recs {
		if len(g.body) == len(huge) {
			found = g.body == string(huge)
		}
	}
	if !found {
		t.Error("the 16 MiB record did not arrive whole")
	}
}

// While following, a summary line is logged every SummaryEvery, naming
// the sandboxes that are behind (here: the receiver refuses everything).
func TestSummaryLine(t *testing.T) {
	r := newRig(t)
	numbered(t, r.writer("slow", 0), 0, 10)
	r.sink.setAnswer(func(w http.ResponseWriter, n int) bool {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return false
	})
	_, stop := r.follow(func(c *ship.Config) { c.SummaryEvery = 100 * time.Millisecond; c.StopTimeout = 200 * time.Millisecond })
	defer stop()
	waitUntil(t, 10*time.Second, "a summary naming slow", func() bool {
		return strings.Contains(r.log.String(), `msg=shipped records=0`) && strings.Contains(r.log.String(), `behind.slow="none shipped yet"`)
	})
}

// Batches belong to the Readers slots, not to the sandboxes: once many
// sandboxes, each of several batches, are shipped and followed, the live
// heap holds at most Readers × 2 batches, whatever the number of
// sandboxes; an entry longer than a batch is not kept once shipped.
func TestFollowMemoryIsBoundedBySlots(t *testing.T) {
	const sandboxes, batchBytes, readers = 48, 256 << 10, 2
	r := newRig(t)
	r.sink.raw = true
	line := bytes.Repeat([]byte("x"), 1000)
	for i := range sandboxes {
		w := r.writer(fmt.Sprintf("sb%02d", i), 0)
		for j := range 700 { // 700 KB: three batches
			if err := w.Exec(msbwriter.Chunk{Time: time.Unix(1e9+int64(j), 0), Source: "stdout", Data: line}); err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 { // and a 14 MB entry
			if err := w.Exec(msbwriter.Chunk{Time: time.Unix(2e9, 0), Source: "stdout", Data: bytes.Repeat(line, 14<<10)}); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
	}
	before := liveHeap()
	s, stop := r.follow(func(c *ship.Config) { c.BatchBytes = batchBytes; c.Readers = readers })
	defer stop()
	waitUntil(t, 60*time.Second, "every record shipped", func() bool { return s.Stats.Records.Load() == sandboxes*700+1 })
	grown := liveHeap() - before
	// Slots × 2 batches, each at most 2 × BatchBytes of bodies, their
	// records and cursors; the engine's pool of long-line buffers (8 MiB
	// for the process); and a few KiB per sandbox of engine state.
	bound := int64(readers*2*3*batchBytes + 8<<20 + sandboxes*32<<10)
	if grown > bound {
		t.Errorf("following %d sandboxes grew the live heap by %d KiB, want at most %d KiB (slots × 2 batches, the engine's pool)", sandboxes, grown>>10, bound>>10)
	}
}

// liveHeap returns the bytes of the heap's live objects after two
// collections (the second empties the pools' victim caches).
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// A sandbox that keeps failing while followed is logged once per
// distinct error and counted once, however many changes it sees; once it
// ships again that is said, and a new failure is logged and counted anew.
func TestFollowLogsAFailureOnce(t *testing.T) {
	r := newRig(t)
	bad := r.writer("bad", 0)
	numbered(t, bad, 0, 10)
	os.MkdirAll(r.state, 0o700)
	cp := filepath.Join(r.state, "bad.checkpoint")
	if err := os.WriteFile(cp, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, stop := r.follow(nil)
	defer stop()
	errorLines := func() int { return strings.Count(r.log.String(), "level=ERROR") }
	retries := func() int { return strings.Count(r.log.String(), "still not shipped") }
	waitUntil(t, 10*time.Second, "the first error", func() bool { return errorLines() == 1 })
	for i := range 3 { // three changes, each tried again
		numbered(t, bad, 10+i, 11+i)
		waitUntil(t, 10*time.Second, "the change tried", func() bool { return retries() > i })
	}
	if errorLines() != 1 || s.Stats.Failed.Load() != 1 {
		t.Fatalf("the same error: %d error lines, failed %d; want 1 and 1:\n%s", errorLines(), s.Stats.Failed.Load(), r.log)
	}
	// Another error while still failing: logged, not counted again.
	if err := os.WriteFile(cp, []byte(`{"format":"other"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	numbered(t, bad, 13, 14)
	waitUntil(t, 10*time.Second, "the new error", func() bool { return errorLines() == 2 })
	if !strings.Contains(r.log.String(), `format \"other\"`) || s.Stats.Failed.Load() != 1 {
		t.Fatalf("another error: failed %d, want 1:\n%s", s.Stats.Failed.Load(), r.log)
	}
	// The state file moved away: shipped again, and said so.
	os.Remove(cp)
	numbered(t, bad, 14, 15)
	waitUntil(t, 10*time.Second, "shipped again", func() bool { return len(r.sink.all()) == 15 })
	waitUntil(t, 10*time.Second, "the recovery said", func() bool { return strings.Contains(r.log.String(), "shipped again") })
	// A new failure (the checkpoint cannot be written: a directory took
	// its name) is logged and counted anew.
	os.Remove(cp)
	if err := os.MkdirAll(filepath.Join(cp, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // each record is sent, its checkpoint not saved
		numbered(t, bad, 15+i, 16+i)
		waitUntil(t, 10*time.Second, "the record sent", func() bool { return len(r.sink.all()) == 16+i })
		waitUntil(t, 10*time.Second, "the failure noted", func() bool { return errorLines()+retries() == 6+i })
	}
	if errorLines() != 3 || s.Stats.Failed.Load() != 2 {
		t.Fatalf("failing anew: %d error lines, failed %d; want 3 and 2:\n%s", errorLines(), s.Stats.Failed.Load(), r.log)
	}
}
