package fs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// TestSandboxSetIdle: a sandbox is idle once unused for the interval, is
// given once, and again only after a new use has aged.
func TestSandboxSetIdle(t *testing.T) {
	st := &state{}
	a, b := newScope(st, "a"), newScope(st, "b")
	st.boxes.add(a)
	st.boxes.add(b)
	names := func(now int64) []string {
		st.clock.Store(now)
		var out []string
		for _, sc := range st.boxes.idle(now, 3, nil) {
			out = append(out, sc.name)
		}
		return out
	}
	if got := names(2); len(got) != 0 {
		t.Fatalf("idle after 2 ticks of 3: %v", got)
	}
	b.touch() // used at tick 2
	if got := names(3); len(got) != 1 || got[0] != "a" {
		t.Fatalf("idle at tick 3: %v, want [a]", got)
	}
	if got := names(4); len(got) != 0 {
		t.Fatalf("at tick 4, a given again or b given early: %v", got)
	}
	if got := names(5); len(got) != 1 || got[0] != "b" {
		t.Fatalf("idle at tick 5: %v, want [b]", got)
	}
	a.touch() // used at tick 5
	if got := names(9); len(got) != 1 || got[0] != "a" {
		t.Fatalf("idle at tick 9 after a was used again: %v, want [a]", got)
	}
	if got := names(100); len(got) != 0 {
		t.Fatalf("given again with no use since: %v", got)
	}
}

// TestSandboxSetOverflow: past its bound of directories in use, the set
// gives the least recently used (by tick, then by lookup) down to three
// quarters of the bound; directories given and not used since do not
// count; a pass is due only once a quarter of the bound joined.
func TestSandboxSetOverflow(t *testing.T) {
	st := &state{}
	st.boxes.bound = 8
	var scopes []*scope
	due := 0
	for i := range 12 {
		st.clock.Store(int64(i / 4)) // four lookups per tick
		sc := newScope(st, fmt.Sprint(i))
		scopes = append(scopes, sc)
		if st.boxes.add(sc) {
			due++
		}
	}
	if due != 4 { // the 9th to the 12th: past the bound, with no pass made
		t.Fatalf("%d passes due, want 4", due)
	}
	scopes[0].touch() // used again at tick 2, looked up first: still older than those of tick 2 looked up later
	st.boxes.add(scopes[0])
	var got []string
	for _, sc := range st.boxes.overflow(nil) {
		got = append(got, sc.name)
	}
	// 12 in use, bound 8: the 6 least recently used go, leaving 6.
	if want := []string{"1", "2", "3", "4", "5", "6"}; !slices.Equal(got, want) {
		t.Fatalf("overflow gave %v, want %v", got, want)
	}
	if got := st.boxes.overflow(nil); len(got) != 0 {
		t.Fatalf("a second pass gave %d more with 6 in use", len(got))
	}
	if st.boxes.add(newScope(st, "x")) {
		t.Fatal("a pass due after one join since the last")
	}
	if !st.boxes.add(newScope(st, "y")) {
		t.Fatal("no pass due after a quarter of the bound joined")
	}
}

// TestClockFor: the schedule drops a directory no sooner than the
// interval after its last use, and ticks at most once a second.
func TestClockFor(t *testing.T) {
	for _, idle := range []time.Duration{time.Millisecond, 100 * time.Millisecond, 5 * time.Second, time.Minute} {
		c := clockFor(idle)
		if c.period <= 0 || c.period > time.Second {
			t.Errorf("%v: period %v", idle, c.period)
		}
		// A use just before tick k+1 is stamped k: it is dropped at
		// tick k+after, (after-1) periods later at least.
		if got := time.Duration(c.after-1) * c.period; got < idle {
			t.Errorf("%v: a use may be dropped after %v", idle, got)
		}
	}
}

// TestSandboxSetForgets: the set holds each sandbox directory the kernel
// looked up, once however often it is looked up, and none once the kernel
// forgets them; their nodes are counted out too. The node tree is driven
// through go-fuse's raw LOOKUP and FORGET, as the kernel drives it.
func TestSandboxSetForgets(t *testing.T) {
	names, raw, st := rawTree(t, 20, 5)
	lookup := func(parent uint64, name string) uint64 {
		var out fuse.EntryOut
		if s := raw.Lookup(nil, &fuse.InHeader{NodeId: parent}, name, &out); s != fuse.OK {
			t.Fatalf("lookup %s: %v", name, s)
		}
		return out.NodeId
	}
	counts := map[uint64]uint64{}
	for range 3 { // the kernel looks a name up again once its entry expired
		for _, sb := range names {
			dir := lookup(1, sb)
			counts[dir]++
			counts[lookup(dir, "merged")]++
			counts[lookup(dir, "cursor")]++
			counts[lookup(dir, "sessions")]++
		}
	}
	if n := st.boxes.len(); n != len(names) {
		t.Errorf("%d sandboxes in the set after looking up %d, three times", n, len(names))
	}
	if n := st.nodes.Load(); n != int64(len(counts)) {
		t.Errorf("%d nodes counted, the kernel knows %d", n, len(counts))
	}
	for id, n := range counts {
		raw.Forget(id, n)
	}
	if n := st.boxes.len(); n != 0 {
		t.Errorf("%d sandboxes left in the set after the kernel forgot them all", n)
	}
	if n := st.nodes.Load(); n != 0 {
		t.Errorf("%d nodes counted after the kernel forgot them all", n)
	}
}

// TestIdleSandboxForgotten: through a mount, the kernel forgets the nodes
// of a sandbox unused for the interval; a file held open keeps reading and
// its fstat works, and the sandbox is found again by name. The goroutine
// that drops entries ends with the mount.
func TestIdleSandboxForgotten(t *testing.T) {
	m := mountBoxWith(t, Options{DirectMount: true, ForgetIdle: 200 * time.Millisecond})
	held, err := os.Open(m.path("stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for _, name := range []string{"merged", "stdout", "cursor", "sessions"} {
		if _, err := os.Stat(m.path(name)); err != nil {
			t.Fatal(err)
		}
	}
	peak := m.srv.KnownNodes()
	waitUntil(t, 10*time.Second, "the idle sandbox's unheld nodes to be forgotten", func() bool {
		return m.srv.KnownNodes() <= 2 // the held file and its directory
	})
	t.Logf("%d nodes known after the walk, %d after the interval", peak, m.srv.KnownNodes())
	data := make([]byte, 11)
	if _, err := held.ReadAt(data, 0); err != nil || string(data) != "line 00000\n" {
		t.Fatalf("held file after its sandbox was dropped: %q, %v", data, err)
	}
	if fi, err := held.Stat(); err != nil || fi.Size() != 100*11 {
		t.Fatalf("fstat of the held file: %v, %v", fi, err)
	}
	if ents, err := os.ReadDir(filepath.Dir(m.path("x"))); err != nil || len(ents) == 0 {
		t.Fatalf("listing the sandbox again: %v, %v", ents, err)
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	m.fsys.Shutdown()
	if err := m.srv.Unmount(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	if stacks := buf[:runtime.Stack(buf, true)]; bytes.Contains(stacks, []byte("dropIdle")) {
		t.Fatalf("the goroutine that drops idle entries outlived the unmount:\n%s", stacks)
	}
}

// TestFlushAnsweredOnce: FLUSH is answered ENOSYS, so the kernel sends it
// once for the mount; close returns 0 for every kind of file, and seek's
// writes still take effect when written.
func TestFlushAnsweredOnce(t *testing.T) {
	m := mountBox(t)
	for range 3 {
		for _, name := range []string{"merged", "stdout", "merged.jsonl", "system", "cursor", "stdout.follow", "merged.live"} {
			f, err := os.Open(m.path(name))
			if err != nil {
				t.Fatalf("open %s: %v", name, err)
			}
			if err := f.Close(); err != nil {
				t.Fatalf("close %s: %v", name, err)
			}
		}
		seekToEnd(t, m)
		d, err := os.Open(filepath.Dir(m.path("x")))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil {
			t.Fatalf("close the sandbox's directory: %v", err)
		}
	}
	if n := m.srv.rec.flushes.Load(); n != 1 {
		t.Errorf("%d FLUSH requests for 30 closes, want 1", n)
	}
}

// seekToEnd writes a refused line and "end" to seek, then reads from it
// the line written next, and closes it.
func seekToEnd(t *testing.T, m *testMount) {
	t.Helper()
	s, err := os.OpenFile(m.path("seek"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("bogus\n")); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("bogus seek line written: %v", err)
	}
	if _, err := s.Write([]byte("end\n")); err != nil {
		t.Fatal(err)
	}
	m.write(t, 1)
	want := fmt.Sprintf(`"d":"line %05d\n"`, m.n-1)
	data := make([]byte, 4096)
	n, err := s.Read(data)
	if err != nil || !bytes.Contains(data[:n], []byte(want)) {
		t.Fatalf("seek after end: %q, %v; want %s", data[:n], err, want)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close seek: %v", err)
	}
}
