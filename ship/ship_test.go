package ship_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
	"github.com/microsandbox/msb-logfs/ship"
	"github.com/microsandbox/msb-logfs/ship/checkpoint"
	"github.com/microsandbox/msb-logfs/ship/otlp"
)

// lockedLog collects a shipper's log lines.
type lockedLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// rig is a home, a state directory and a sink.
type rig struct {
	t     testing.TB
	home  string
	state string
	sink  *sink
	log   *lockedLog
}

func newRig(t testing.TB) *rig {
	dir := t.TempDir()
	return &rig{t: t, home: filepath.Join(dir, "home"), state: filepath.Join(dir, "state"), sink: newSink(t), log: &lockedLog{}}
}

// writer makes sandbox name, rotating every rotateAt bytes.
func (r *rig) writer(name string, rotateAt int64) *msbwriter.Sandbox {
	w, err := msbwriter.Create(r.home, name, msbwriter.Options{RotateAt: rotateAt})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { w.Close() })
	return w
}

// numbered writes records from..to-1 of sandbox w as "rec N" on stdout.
func numbered(t *testing.T, w *msbwriter.Sandbox, from, to int) {
	t.Helper()
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := from; i < to; i++ {
		if err := w.Exec(msbwriter.Chunk{Time: base.Add(time.Duration(i) * time.Millisecond), Source: "stdout", Data: fmt.Appendf(nil, "rec %d\n", i), ID: 1, HasID: true}); err != nil {
			t.Fatal(err)
		}
	}
}

// shipper returns a shipper of the rig's home to its sink, and what
// closes its home and store; tune adjusts the config.
func (r *rig) shipper(once bool, tune func(*ship.Config)) (*ship.Shipper, func()) {
	h, err := engine.OpenHome(r.home)
	if err != nil {
		r.t.Fatal(err)
	}
	h.SetCacheDir("")
	st, err := checkpoint.Open(r.state)
	if err != nil {
		r.t.Fatal(err)
	}
	snd, err := otlp.New(otlp.Config{URL: r.sink.url(), Hostname: "testhost", Timeout: 2 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	var once1 sync.Once
	closeAll := func() { once1.Do(func() { snd.Close(); st.Close(); h.Close() }) }
	r.t.Cleanup(closeAll)
	cfg := ship.Config{Home: h, Store: st, Sender: snd, Once: once, Mask: engine.MaskAll,
		Backoff: ship.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		Log:     slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tune != nil {
		tune(&cfg)
	}
	return ship.New(cfg), closeAll
}

// runOnce ships what exists, with a fresh shipper.
func (r *rig) runOnce(tune func(*ship.Config)) *ship.Shipper {
	r.t.Helper()
	s, closeAll := r.shipper(true, tune)
	defer closeAll()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Run(ctx); err != nil {
		r.t.Fatal(err)
	}
	return s
}

// numbersOf returns how many times each "rec N" body of sandbox name
// arrived, and the cursor of each number's first copy.
func numbersOf(recs []got, name string) (map[int]int, map[int]string, map[int][]string) {
	count, first, cursors := map[int]int{}, map[int]string{}, map[int][]string{}
	for _, g := range recs {
		var n int
		if g.sandbox != name || g.source != "stdout" {
			continue
		}
		if _, err := fmt.Sscanf(g.body, "rec %d", &n); err != nil {
			continue
		}
		if count[n] == 0 {
			first[n] = g.cursor
		}
		count[n]++
		cursors[n] = append(cursors[n], g.cursor)
	}
	return count, first, cursors
}

// expectEach checks that every number in [0, n) arrived exactly want
// times (want 0: at least once).
func expectEach(t *testing.T, recs []got, name string, n, want int) {
	t.Helper()
	count, _, cursors := numbersOf(recs, name)
	bad := 0
	for i := range n {
		c := count[i]
		if c == 0 || (want > 0 && c != want) {
			if bad++; bad < 5 {
				t.Errorf("%s: rec %d arrived %d times", name, i, c)
			}
		}
		for _, cur := range cursors[i] {
			if cur != cursors[i][0] {
				t.Errorf("%s: rec %d arrived with cursors %q", name, i, cursors[i])
				break
			}
		}
	}
	if len(count) != n {
		t.Errorf("%s: %d distinct numbers arrived, want %d", name, len(count), n)
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d numbers wrong", name, bad, n)
	}
}

func TestOnceShipsEveryEntryWithItsFields(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 0)
	numbered(t, w, 0, 500)
	w.Exec(msbwriter.Chunk{Time: time.Date(2026, 5, 1, 10, 0, 1, 0, time.UTC), Source: "stderr", Data: []byte("oops\n"), ID: 2, HasID: true})
	w.Runtime("2026-05-01T10:00:02.000000Z WARN runtime: slow consumer")
	w.Kernel("2026-05-01T10:00:03.000000Z booted")
	w.Exec(msbwriter.Chunk{Time: time.Date(2026, 5, 1, 10, 0, 4, 0, time.UTC), Source: "system", Data: []byte("exit 0")})
	s := r.runOnce(nil)
	recs := r.sink.all()
	expectEach(t, recs, "foo", 500, 1)
	if len(recs) != 504 {
		t.Fatalf("%d records, want 504", len(recs))
	}
	want := map[string]got{
		"oops":                        {source: "stderr", severity: 17, session: 2, hasSession: true},
		"WARN runtime: slow consumer": {source: "runtime", severity: 13},
		"booted":                      {source: "kernel", severity: 9},
		"exit 0":                      {source: "system", severity: 9},
		"rec 7":                       {source: "stdout", severity: 9, session: 1, hasSession: true},
	}
	for _, g := range recs {
		w, ok := want[g.body]
		if !ok {
			continue
		}
		delete(want, g.body)
		if g.source != w.source || g.severity != w.severity || g.session != w.session || g.hasSession != w.hasSession {
			t.Errorf("%q: got %+v, want %+v", g.body, g, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("not received: %v", want)
	}
	// The cursors are those of the engine: each resumes after its entry.
	h, _ := engine.OpenHome(r.home)
	defer h.Close()
	sb, _ := h.Sandbox("foo")
	c, _ := engine.ParseCursor(recs[len(recs)-1].cursor)
	st, err := sb.StateAt(c)
	if err != nil {
		t.Fatalf("the last record's cursor: %v", err)
	}
	sc := sb.NewScanner(engine.Query{Mask: engine.MaskAll, From: st})
	defer sc.Close()
	n := 0
	sc.Next(func(*engine.Entry, *engine.State) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d entries after the last record's cursor", n)
	}
	if s.Stats.Records.Load() != 504 {
		t.Errorf("Stats.Records %d", s.Stats.Records.Load())
	}
}

func TestResumesFromCheckpointWithoutDuplicates(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 64<<10)
	numbered(t, w, 0, 1000)
	r.runOnce(func(c *ship.Config) { c.BatchRecords = 64 })
	numbered(t, w, 1000, 3000) // rotates several times
	r.runOnce(func(c *ship.Config) { c.BatchRecords = 64 })
	r.runOnce(nil) // nothing new
	expectEach(t, r.sink.all(), "foo", 3000, 1)
	if strings.Contains(r.log.String(), "LOST") {
		t.Errorf("a loss was reported:\n%s", r.log)
	}
}

func TestRotatedAwayCheckpointIsReportedAsLoss(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 8<<10)
	numbered(t, w, 0, 100)
	r.runOnce(nil)
	numbered(t, w, 100, 5000) // far more than the five files hold
	s := r.runOnce(nil)
	if s.Stats.Losses.Load() != 1 {
		t.Errorf("Stats.Losses %d, want 1", s.Stats.Losses.Load())
	}
	out := r.log.String()
	if !strings.Contains(out, "LOST") || !strings.Contains(out, "sandbox=foo") || !strings.Contains(out, "gap=") {
		t.Fatalf("no loss line naming the sandbox and the gap:\n%s", out)
	}
	count, _, _ := numbersOf(r.sink.all(), "foo")
	if count[4999] != 1 || count[99] != 1 {
		t.Errorf("rec 99 x%d, rec 4999 x%d: want both once", count[99], count[4999])
	}
	for n, c := range count {
		if c > 1 {
			t.Fatalf("rec %d arrived %d times", n, c)
		}
	}
}

func TestBadRequestIsSkippedAndCounted(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 0)
	numbered(t, w, 0, 300)
	r.sink.setAnswer(func(w http.ResponseWriter, n int) bool {
		if n == 2 {
			http.Error(w, "bad data", http.StatusBadRequest)
			return false
		}
		return true
	})
	s := r.runOnce(func(c *ship.Config) { c.BatchRecords = 100 })
	if got := s.Stats.Rejected.Load(); got != 100 {
		t.Errorf("Stats.Rejected %d, want 100", got)
	}
	if r.sink.count() != 3 {
		t.Errorf("%d requests, want 3 (the 400 not retried)", r.sink.count())
	}
	count, _, _ := numbersOf(r.sink.all(), "foo")
	if len(count) != 200 || count[0] != 1 || count[100] != 0 || count[299] != 1 {
		t.Errorf("received %d numbers (rec 100 x%d), want 200 without the rejected batch", len(count), count[100])
	}
	if !strings.Contains(r.log.String(), "records=100") || !strings.Contains(r.log.String(), "rejected") {
		t.Errorf("the rejection is not logged with its count:\n%s", r.log)
	}
}
