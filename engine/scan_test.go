package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// scanAll renders every entry a scanner yields in format f.
func scanAll(t testing.TB, sc *Scanner, f Format) []byte {
	t.Helper()
	var r Renderer
	var out []byte
	if err := sc.Next(func(e *Entry, after *State) error {
		out = r.Append(out, f, e, after)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScanMatchesViews: a scan of a view's sources, rendered, is the view,
// cursors included.
func TestScanMatchesViews(t *testing.T) {
	d := newSandboxDir(t)
	g := newCorpusGen(d, 31)
	g.RotateAt = 20 << 10
	g.write(60<<10, true)
	sb := d.open()
	for _, nv := range allViews {
		sc := sb.NewScanner(Query{Mask: nv.v.Mask})
		got := scanAll(t, sc, nv.v.Format)
		sc.Close()
		compareBytes(t, "scan of "+nv.name, got, snap(t, sb, nv.v))
	}
}

// TestScanResumesAndFollowsGrowth: Next continues where it stopped, and
// its State resumes a new scanner (and a Reader) exactly there.
func TestScanResumesAndFollowsGrowth(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "a\n"), jl(1, "stderr", "b\n"))
	d.runtime(rl(2, "r"))
	sb := d.open()
	sc := sb.NewScanner(Query{Mask: logline.MaskDefault})
	defer sc.Close()
	var cursors []string
	var got []string
	collect := func(e *Entry, after *State) error {
		got = append(got, string(e.Body))
		cursors = append(cursors, after.Cursor.String())
		return nil
	}
	if err := sc.Next(collect); err != nil {
		t.Fatal(err)
	}
	d.exec(jl(3, "stdout", "c\n"))
	d.rotate()
	d.exec(jl(4, "output", "d\n"))
	if err := sc.Next(collect); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "") != "a\nb\nc\nd\n" {
		t.Fatalf("scanned %q", got)
	}
	// Default sources do not read the text logs: their positions stay.
	if st := sc.State(); !st.Cursor[logline.OriginRuntime].IsStart() {
		t.Errorf("default scan moved runtime position: %v", st.Cursor)
	}
	// A cursor of the 2nd entry resumes a scanner at the 3rd.
	c, _ := ParseCursor(cursors[1])
	st, err := sb.StateAt(c)
	if err != nil {
		t.Fatal(err)
	}
	sc2 := sb.NewScanner(Query{Mask: logline.MaskDefault, From: st})
	defer sc2.Close()
	if got := string(scanAll(t, sc2, FormatRaw)); got != "c\nd\n" {
		t.Errorf("resumed: %q", got)
	}
	if got := string(readerAll(t, sb, ViewOutput, st)); got != "d\n" {
		t.Errorf("reader from the same state: %q", got)
	}
}

// TestScanTimeRange: Since and Until bound the entries; LastState is the
// state after the last entry inside the range.
func TestScanTimeRange(t *testing.T) {
	d := newSandboxDir(t)
	for i := range 10 {
		d.exec(jl(int64(i)*1000, "stdout", fmt.Sprintf("%d\n", i)))
	}
	sb := d.open()
	q := Query{Mask: MaskAll, Since: nsAt(3000), Until: nsAt(6000)}
	sc := sb.NewScanner(q)
	defer sc.Close()
	var last State
	var got []string
	if err := sc.Next(func(e *Entry, after *State) error {
		got = append(got, strings.TrimSpace(string(e.Body)))
		last = *after
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "3,4,5,6" {
		t.Errorf("range: %v", got)
	}
	if sc.LastState() != last {
		t.Errorf("LastState %v, want the state after entry 6 (%v)", sc.LastState().Cursor, last.Cursor)
	}
	if got := string(readerAll(t, sb, ViewStdout, sc.LastState())); got != "7\n8\n9\n" {
		t.Errorf("after LastState: %q", got)
	}
	end, _ := sb.EndState()
	if sc.State().Cursor != end.Cursor {
		t.Errorf("State %v, want the end %v", sc.State().Cursor, end.Cursor)
	}
	// Since only.
	sc3 := sb.NewScanner(Query{Mask: MaskAll, Since: nsAt(8500)})
	defer sc3.Close()
	if got := string(scanAll(t, sc3, FormatRaw)); got != "9\n" {
		t.Errorf("since: %q", got)
	}
}

// TestScanCallbackError: an error of the callback stops the scan and is
// returned as is.
func TestScanCallbackError(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "a\n"), jl(1, "stdout", "b\n"))
	sb := d.open()
	sc := sb.NewScanner(Query{Mask: MaskAll})
	defer sc.Close()
	stop := errors.New("stop")
	n := 0
	if err := sc.Next(func(*Entry, *State) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("Next = %v after %d calls", err, n)
	}
}

// TestScanFollow: Follow delivers appended entries, flushes after each
// pass, returns nil when its context ends and ErrRemoved when the sandbox
// goes away.
func TestScanFollow(t *testing.T) {
	home := newHomeDir(t)
	d := mkSandbox(t, home, "f")
	d.exec(jl(0, "stdout", "old\n"))
	h := openTestHome(t, home)
	sb, _ := h.Sandbox("f")
	end, _ := sb.EndState()
	sc := sb.NewScanner(Query{Mask: MaskAll, From: end})
	defer sc.Close()
	got := make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- sc.Follow(ctx, func(e *Entry, _ *State) error {
			got <- string(e.Body)
			return nil
		}, func() error { return nil })
	}()
	d.exec(jl(1, "stdout", "new\n"))
	select {
	case b := <-got:
		if b != "new\n" {
			t.Errorf("followed %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not deliver the appended entry")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Follow after cancel = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return after cancel")
	}

	sc2 := sb.NewScanner(Query{Mask: MaskAll})
	defer sc2.Close()
	following := make(chan struct{}, 1) // sent at each flush: Follow then waits for a change
	go func() {
		done <- sc2.Follow(context.Background(), func(*Entry, *State) error { return nil }, func() error {
			select {
			case following <- struct{}{}:
			default:
			}
			return nil
		})
	}()
	select {
	case <-following:
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not start")
	}
	if err := os.RemoveAll(filepath.Join(home, "sandboxes", "f")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrRemoved) {
			t.Errorf("Follow after removal = %v, want ErrRemoved", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not end after the removal")
	}
}

// TestCloseGivesBuffersBack: a Reader or a Scanner gives its read buffers
// back to their pools when it closes, so that opening one, reading to the
// end and closing it again and again (a seek file opened per request)
// allocates less than two read chunks per cycle, where one that kept them
// would take a new chunk for each of the three origins it reads (the race
// detector's pools drop a quarter of what they are given). The collector
// is off while it counts, as it would empty the pools, and one processor
// runs the test, as a buffer given back on one is not always found from
// another.
func TestCloseGivesBuffersBack(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "a\n"), jl(2, "stderr", "b\n"))
	d.runtime(rl(1, "r"))
	d.kernel("[ 1.0] k")
	sb := d.open()
	buf := make([]byte, 4<<10)
	cycles := []struct {
		name  string
		cycle func()
	}{
		{"Reader", func() {
			r := sb.NewReader(ViewMerged, State{})
			defer r.Close()
			if got := drainReader(t, r, len(buf)); len(got) == 0 {
				t.Fatal("Reader: nothing read")
			}
		}},
		{"Scanner", func() {
			if got := scanEntries(t, sb, Query{Mask: MaskAll}); len(got) != 4 {
				t.Fatalf("Scanner: %d entries, want 4", len(got))
			}
		}},
		{"StateAtTime", func() {
			if _, err := sb.StateAtTime(Time{Sec: baseTime.Unix() + 1}); err != nil {
				t.Fatalf("StateAtTime: %v", err)
			}
		}},
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, c := range cycles {
		c.cycle() // the first one fills the pools
		const n = 50
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			c.cycle()
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / n; per >= 2*logline.ReadChunk {
			t.Errorf("%s: %d bytes allocated per open, read and close; want fewer than two read chunks (%d)", c.name, per, 2*logline.ReadChunk)
		}
	}
}
