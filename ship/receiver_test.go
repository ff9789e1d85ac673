package ship_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/ship"
	"github.com/microsandbox/msb-logfs/ship/checkpoint"
)

func TestRetryAfter429And503(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 0)
	numbered(t, w, 0, 200)
	var at []time.Time
	r.sink.setAnswer(func(w http.ResponseWriter, n int) bool {
		at = append(at, time.Now())
		switch n {
		case 1:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return false
		case 2:
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return false
		}
		w.WriteHeader(http.StatusOK)
		return true
	})
	s := r.runOnce(nil)
	expectEach(t, r.sink.all(), "foo", 200, 1)
	if len(at) != 3 {
		t.Fatalf("%d requests, want 3", len(at))
	}
	if d := at[1].Sub(at[0]); d < time.Second {
		t.Errorf("retried %v after a 429 with Retry-After: 1", d)
	}
	if s.Stats.Retries.Load() != 2 || s.Stats.Rejected.Load() != 0 {
		t.Errorf("retries %d rejected %d, want 2 and 0", s.Stats.Retries.Load(), s.Stats.Rejected.Load())
	}
}

// partialAnswer answers every request with a 2xx partial success that
// rejects n records with message msg.
func partialAnswer(n int64, msg string) func(w http.ResponseWriter, _ int) bool {
	return func(w http.ResponseWriter, _ int) bool {
		resp := plogotlp.NewExportResponse()
		resp.PartialSuccess().SetRejectedLogRecords(n)
		resp.PartialSuccess().SetErrorMessage(msg)
		data, _ := resp.MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(data)
		return true
	}
}

// A partial success is the receiver's last word on a batch (the OTLP
// specification: it must not be retried): the rejected records are
// logged once with the receiver's message and counted, and the
// checkpoint moves past the batch.
func TestPartialSuccessIsNotRetried(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 0)
	numbered(t, w, 0, 50)
	r.sink.setAnswer(partialAnswer(3, "memory limit"))
	s := r.runOnce(nil)
	if r.sink.count() != 1 || s.Stats.Retries.Load() != 0 {
		t.Errorf("%d requests, %d retries; want 1 and 0", r.sink.count(), s.Stats.Retries.Load())
	}
	if s.Stats.Rejected.Load() != 3 || s.Stats.Records.Load() != 47 {
		t.Errorf("rejected %d, records %d; want 3 and 47", s.Stats.Rejected.Load(), s.Stats.Records.Load())
	}
	out := r.log.String()
	if n := strings.Count(out, "memory limit"); n != 1 || !strings.Contains(out, "records=3") {
		t.Errorf("want one line with the receiver's message and records=3, got %d:\n%s", n, out)
	}
	r.sink.setAnswer(nil)
	r.runOnce(nil)
	if r.sink.count() != 1 {
		t.Errorf("the batch was sent again by the next run: the checkpoint did not move past it")
	}
}

// A receiver that says it rejected more records than the batch holds is
// counted for the batch's records, no more.
func TestPartialSuccessCountIsBounded(t *testing.T) {
	r := newRig(t)
	numbered(t, r.writer("foo", 0), 0, 20)
	r.sink.setAnswer(partialAnswer(1<<40, "all of them and more"))
	s := r.runOnce(nil)
	if s.Stats.Rejected.Load() != 20 || s.Stats.Records.Load() != 0 || r.sink.count() != 1 {
		t.Errorf("rejected %d, records %d after %d requests; want 20, 0 after 1", s.Stats.Rejected.Load(), s.Stats.Records.Load(), r.sink.count())
	}
}

// A request refused as too large (413) is sent again in halves, down to
// one record; only a record refused alone is skipped, logged with its
// cursor and counted. The others arrive once, in order.
func TestTooLargeIsSplit(t *testing.T) {
	r := newRig(t)
	numbered(t, r.writer("foo", 0), 0, 100)
	r.sink.tooLarge = func(recs []got) bool {
		return len(recs) > 30 || slices.ContainsFunc(recs, func(g got) bool { return g.body == "rec 57" })
	}
	s := r.runOnce(func(c *ship.Config) { c.BatchRecords = 100 })
	var got []string
	for _, g := range r.sink.all() {
		got = append(got, g.body)
	}
	var want []string
	for i := range 100 {
		if i != 57 {
			want = append(want, fmt.Sprintf("rec %d", i))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("received %q,\nwant rec 0 to rec 99 without rec 57, once each, in order", got)
	}
	if s.Stats.Rejected.Load() != 1 || s.Stats.Records.Load() != 99 || s.Stats.Retries.Load() != 0 {
		t.Errorf("rejected %d, records %d, retries %d; want 1, 99, 0", s.Stats.Rejected.Load(), s.Stats.Records.Load(), s.Stats.Retries.Load())
	}
	out := r.log.String()
	cursor57 := cursorAfter(t, r.home, "foo", "rec 57")
	if n := strings.Count(out, "receiver rejected records"); n != 1 || !strings.Contains(out, `first_cursor="`+cursor57+`"`) || !strings.Contains(out, "413") {
		t.Errorf("want one line naming rec 57 (its cursor %s) and the 413, got %d:\n%s", cursor57, n, out)
	}
	requests := r.sink.count()
	r.runOnce(nil)
	if r.sink.count() != requests {
		t.Errorf("the next run sent again: the checkpoint did not move past the batch")
	}
}

// cursorAfter returns the cursor after the entry of sandbox name whose
// body is body, as the engine gives it.
func cursorAfter(t *testing.T, home, name, body string) string {
	t.Helper()
	h, err := engine.OpenHome(home)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sb, err := h.Sandbox(name)
	if err != nil {
		t.Fatal(err)
	}
	sc := sb.NewScanner(engine.Query{Mask: engine.MaskAll})
	defer sc.Close()
	var cursor string
	sc.Next(func(e *engine.Entry, after *engine.State) error {
		if strings.TrimSuffix(string(e.Body), "\n") == body {
			cursor = after.Cursor.String()
		}
		return nil
	})
	if cursor == "" {
		t.Fatalf("%s has no entry %q", name, body)
	}
	return cursor
}

func TestSlowReceiver(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 0)
	numbered(t, w, 0, 400)
	r.sink.setAnswer(func(w http.ResponseWriter, n int) bool {
		time.Sleep(300 * time.Millisecond) // under the 2 s timeout
		w.WriteHeader(http.StatusOK)
		return true
	})
	r.runOnce(func(c *ship.Config) { c.BatchRecords = 100 })
	expectEach(t, r.sink.all(), "foo", 400, 1)
}

// A receiver that never answers: each send times out and is tried again;
// a stop then waits StopTimeout for the batch in flight, leaves the
// checkpoint where it was and returns.
func TestReceiverThatNeverAnswers(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 0)
	numbered(t, w, 0, 100)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	r.sink.setAnswer(func(w http.ResponseWriter, n int) bool {
		<-release
		return false
	})
	s, closeAll := r.shipper(false, func(c *ship.Config) { c.StopTimeout = 500 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitUntil(t, 10*time.Second, "two sends timed out", func() bool { return r.sink.count() >= 2 })
	stopped := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its stop timeout")
	}
	if d := time.Since(stopped); d > 3*time.Second {
		t.Errorf("stopping took %v with a 500 ms stop timeout", d)
	}
	closeAll()
	if _, err := os.Stat(filepath.Join(r.state, "foo.checkpoint")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a checkpoint was written for an unacknowledged batch: %v", err)
	}
	if !strings.Contains(r.log.String(), "deadline exceeded") {
		t.Errorf("the timeouts are not logged:\n%s", r.log)
	}
}

// While the receiver is down, nothing more is read: memory holds the
// batches in flight, at most Readers of them.
func TestReceiverDownStopsReadingThenResumes(t *testing.T) {
	r := newRig(t)
	names := []string{"a", "b", "c", "d", "e", "f"}
	for _, n := range names {
		numbered(t, r.writer(n, 0), 0, 300)
	}
	var down = true
	r.sink.setAnswer(func(w http.ResponseWriter, n int) bool {
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return false
		}
		w.WriteHeader(http.StatusOK)
		return true
	})
	s, closeAll := r.shipper(false, func(c *ship.Config) { c.Readers = 2; c.BatchRecords = 100 })
	defer closeAll()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitUntil(t, 10*time.Second, "retries", func() bool { return s.Stats.Retries.Load() >= 10 })
	// Only the two readers' first batches were ever sent.
	if got := distinctFirstCursors(r); got > 2 {
		t.Errorf("%d distinct batches sent while the receiver was down, want at most 2 (Readers)", got)
	}
	r.sink.mu.Lock()
	down = false
	r.sink.mu.Unlock()
	waitUntil(t, 20*time.Second, "everything shipped", func() bool { return len(r.sink.all()) >= len(names)*300 })
	cancel()
	<-done
	for _, n := range names {
		expectEach(t, r.sink.all(), n, 300, 1)
	}
}

// distinctFirstCursors counts the batches the sink has seen, acknowledged
// or not, by the cursor of their first record.
func distinctFirstCursors(r *rig) int {
	r.sink.mu.Lock()
	defer r.sink.mu.Unlock()
	return len(r.sink.firsts)
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBadStateFilesAreRefusedAndKept(t *testing.T) {
	r := newRig(t)
	for _, n := range []string{"good", "corrupt", "foreign"} {
		numbered(t, r.writer(n, 0), 0, 20)
	}
	os.MkdirAll(r.state, 0o700)
	bad := map[string]string{
		"corrupt": "{not json",
		"foreign": `{"format":"` + checkpoint.Format + `","sandbox":"good","cursor":"AQ=="}`,
	}
	for n, data := range bad {
		os.WriteFile(filepath.Join(r.state, n+".checkpoint"), []byte(data), 0o600)
	}
	s := r.runOnce(nil)
	expectEach(t, r.sink.all(), "good", 20, 1)
	for n, data := range bad {
		if c, _, _ := numbersOf(r.sink.all(), n); len(c) != 0 {
			t.Errorf("%s was shipped from a bad state file", n)
		}
		if got, _ := os.ReadFile(filepath.Join(r.state, n+".checkpoint")); string(got) != data {
			t.Errorf("%s's state file was changed", n)
		}
		if !strings.Contains(r.log.String(), n+".checkpoint") {
			t.Errorf("no error names %s.checkpoint:\n%s", n, r.log)
		}
	}
	if s.Stats.Failed.Load() != 2 {
		t.Errorf("Stats.Failed %d, want 2", s.Stats.Failed.Load())
	}
	// A cursor that is not this sandbox's (inside a line of its exec.log)
	// is refused too.
	os.Remove(filepath.Join(r.state, "foreign.checkpoint"))
	logs := filepath.Join(r.home, "sandboxes", "corrupt", "logs")
	var dir, exec syscall.Stat_t
	syscall.Stat(logs, &dir)
	syscall.Stat(filepath.Join(logs, "exec.log"), &exec)
	cur := engine.Cursor{{Gen: exec.Ino, Offset: 5}}
	data, _ := json.Marshal(checkpoint.Checkpoint{Format: checkpoint.Format, Sandbox: "corrupt", LogsDev: dir.Dev, LogsIno: dir.Ino, Cursor: cur.String()})
	os.WriteFile(filepath.Join(r.state, "corrupt.checkpoint"), data, 0o600)
	s = r.runOnce(nil)
	if s.Stats.Failed.Load() != 1 || !strings.Contains(r.log.String(), "corrupt checkpoint") {
		t.Errorf("a checkpoint of another sandbox's logs dir was not refused (failed %d):\n%s", s.Stats.Failed.Load(), r.log)
	}
}
