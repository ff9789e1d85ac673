package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(baseTime.UnixNano())
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// openClockedHome opens a home whose idle times follow clock and that lets
// at most maxLive sandboxes hold state.
func openClockedHome(t testing.TB, dir string, clock *fakeClock, maxLive int) *Home {
	t.Helper()
	h, err := openHome(dir, homeConfig{now: clock.now, idleAfter: defaultIdleAfter, maxLive: maxLive})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// openClocked opens the sandbox of d through a new Home whose clock (idle
// times and the hold) is clock.
func openClocked(t testing.TB, d *tdir, clock *fakeClock) *Sandbox {
	t.Helper()
	sb, err := openClockedHome(t, d.home, clock, defaultMaxLive).Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

// writeSmallSandboxes makes n sandboxes sb000… with a few lines in each of
// exec.log (lines of them), runtime.log and kernel.log.
func writeSmallSandboxes(t testing.TB, home string, n, lines int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("sb%03d", i)
		d := mkSandbox(t, home, names[i])
		writeLines(d, 0, lines)
		d.kernel(rl(5, fmt.Sprintf("kernel of %s", names[i])))
	}
	return names
}

// openFDs counts the process's open descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// selfWatches counts the process's inotify watches.
func selfWatches(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if target, _ := os.Readlink("/proc/self/fd/" + e.Name()); target == "anon_inode:inotify" {
			info, _ := os.ReadFile("/proc/self/fdinfo/" + e.Name())
			n += strings.Count(string(info), "inotify wd:")
		}
	}
	return n
}

// heldFiles counts the log files the sandbox's table holds open.
func heldFiles(s *Sandbox) int {
	return s.table.Held()
}

// liveCount and knownCount return the sizes of the home's live set and map.
func liveCount(h *Home) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.live)
}

func knownCount(h *Home) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sandboxes)
}

var everyView = []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewStderr, ViewOutput, ViewSystem}

// readEveryView stats and reads every view of the sandbox name.
func readEveryView(t testing.TB, h *Home, name string) [][]byte {
	t.Helper()
	sb, err := h.Sandbox(name)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, v := range everyView {
		if _, err := sb.Stat(v); err != nil {
			t.Fatal(err)
		}
		out = append(out, snap(t, sb, v))
	}
	return out
}

// TestIdleSandboxesGiveBackTheirState: once idle for 3 s, sandboxes
// close their log files, free their render cache and leave the home's map;
// read again, every view shows the same bytes.
func TestIdleSandboxesGiveBackTheirState(t *testing.T) {
	home := newHomeDir(t)
	names := writeSmallSandboxes(t, home, 20, 2000) // a few chunks each
	clock := newFakeClock()
	h := openClockedHome(t, home, clock, 1000)
	h.SetCacheDir(t.TempDir())
	fds0 := openFDs(t)
	first := map[string][][]byte{}
	var sbs []*Sandbox
	for _, n := range names {
		first[n] = readEveryView(t, h, n)
		sb, _ := h.Sandbox(n)
		sbs = append(sbs, sb)
	}
	if got := openFDs(t); got < fds0+3*len(names) {
		t.Fatalf("while in use: %d descriptors, want at least %d (3 log files per sandbox)", got, fds0+3*len(names))
	}
	if liveCount(h) != len(names) || h.CacheUsed() == 0 {
		t.Fatalf("while in use: %d sandboxes hold state, cache %d bytes", liveCount(h), h.CacheUsed())
	}

	clock.advance(defaultIdleAfter - time.Millisecond)
	h.sweep()
	if liveCount(h) != len(names) {
		t.Fatalf("before IdleAfter: %d of %d sandboxes kept their state", liveCount(h), len(names))
	}
	clock.advance(time.Millisecond)
	h.sweep()
	if liveCount(h) != 0 || knownCount(h) != 0 || h.CacheUsed() != 0 {
		t.Fatalf("after IdleAfter: %d hold state, %d known, cache %d bytes; want 0, 0, 0", liveCount(h), knownCount(h), h.CacheUsed())
	}
	for _, sb := range sbs {
		if n := heldFiles(sb); n != 0 {
			t.Fatalf("%s still holds %d log files", sb.Name(), n)
		}
	}
	if w := selfWatches(t); w > 2 {
		t.Fatalf("after IdleAfter: %d inotify watches, want at most 2 (the home's)", w)
	}
	if got := openFDs(t); got > fds0+1 { // the cache file may stay open
		t.Fatalf("after IdleAfter: %d descriptors, want at most %d", got, fds0+1)
	}
	for _, n := range names {
		again := readEveryView(t, h, n)
		for i, v := range everyView {
			if !bytes.Equal(again[i], first[n][i]) {
				t.Fatalf("%s %v: re-indexed bytes differ", n, v)
			}
		}
	}
}

// TestHeldSandboxKeepsWhatItNeeds: an open snapshot keeps its bytes across
// a rotation and an idle sweep, and a held sandbox stays in the map, so its
// follower is still woken by the watcher; once closed, it is let go.
func TestHeldSandboxKeepsWhatItNeeds(t *testing.T) {
	d := newSandboxDir(t)
	writeLines(d, 0, 3000)
	clock := newFakeClock()
	h := openClockedHome(t, d.home, clock, 1000)
	h.SetCacheDir(t.TempDir())
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sb.OpenSnapshot(ViewMerged)
	if err != nil {
		t.Fatal(err)
	}
	before := readAllAt(t, s, s.Size(), 1<<16)
	fl := openFollower(t, sb, ViewStdout)
	fl.read()

	d.rotate()
	writeLines(d, 3000, 10)
	clock.advance(defaultIdleAfter)
	// A sweep skips a sandbox whose lock is taken at that instant (the
	// watcher's wake-up of the follower takes it); the next sweep frees it.
	for try := 0; liveCount(h) != 0; try++ {
		if try == 100 {
			t.Fatal("an idle held sandbox kept its index through 100 sweeps")
		}
		h.sweep()
		if liveCount(h) != 0 {
			time.Sleep(time.Millisecond) // polling a condition
		}
	}
	if h.lookup(d.name) != sb {
		t.Fatal("a held sandbox was forgotten")
	}
	if got := readAllAt(t, s, s.Size(), 7777); !bytes.Equal(got, before) {
		t.Fatal("the snapshot's bytes changed after rotation and sweep")
	}
	changed := sb.Changed()
	d.exec(jl(9000, "stdout", "after the sweep\n"))
	if !waitChanged(changed, 5*time.Second) {
		t.Fatal("the follower of a swept, held sandbox was not woken")
	}
	if got := fl.next(); !bytes.Contains(got, []byte("after the sweep\n")) {
		t.Fatalf("follower read %q after the sweep", tail(got, 80))
	}

	s.Close()
	fl.f.Close()
	clock.advance(defaultIdleAfter)
	h.sweep()
	if knownCount(h) != 0 || heldFiles(sb) != 0 {
		t.Fatalf("closed: %d known sandboxes, %d files held; want 0, 0", knownCount(h), heldFiles(sb))
	}
}

// TestLiveSandboxesAreBounded: past maxLive sandboxes holding state, the
// least recently used give it up, at once (in the call that took the set
// past it) and whatever the idle time.
func TestLiveSandboxesAreBounded(t *testing.T) {
	home := newHomeDir(t)
	names := writeSmallSandboxes(t, home, 12, 300)
	clock := newFakeClock()
	const maxLive = 4
	h := openClockedHome(t, home, clock, maxLive)
	h.SetCacheDir("")
	var sbs []*Sandbox
	for _, n := range names {
		clock.advance(time.Millisecond)
		sb, err := h.Sandbox(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sb.Stat(ViewMerged); err != nil {
			t.Fatal(err)
		}
		sbs = append(sbs, sb)
	}
	deadline := time.Now().Add(5 * time.Second)
	for liveCount(h) > maxLive && time.Now().Before(deadline) {
		<-time.After(time.Millisecond)
	}
	if n := liveCount(h); n > maxLive {
		t.Fatalf("%d sandboxes hold state, want at most %d", n, maxLive)
	}
	for i, sb := range sbs {
		kept := heldFiles(sb) > 0
		if recent := i >= len(sbs)-maxLive; kept != recent {
			t.Fatalf("%s (used %d of %d): holds files %v, want %v", sb.Name(), i+1, len(sbs), kept, recent)
		}
	}
}

// TestOpenRetriesAfterEMFILE: under a descriptor limit too low for every
// sandbox's files, an open that fails with EMFILE evicts idle state and
// succeeds. It runs in a child process, whose RLIMIT_NOFILE it lowers.
func TestOpenRetriesAfterEMFILE(t *testing.T) {
	if os.Getenv("MSB_LOGFS_EMFILE_CHILD") == "1" {
		emfileChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenRetriesAfterEMFILE$", "-test.v")
	cmd.Env = append(os.Environ(), "MSB_LOGFS_EMFILE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("every sandbox read under the limit")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func emfileChild(t *testing.T) {
	home := newHomeDir(t)
	names := writeSmallSandboxes(t, home, 40, 300)
	h := openClockedHome(t, home, newFakeClock(), 1000) // never idle, never over
	h.SetCacheDir("")
	var was unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &was); err != nil {
		t.Fatal(err)
	}
	limit := uint64(openFDs(t) + 30)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: limit, Max: was.Max}); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &was)
	for _, n := range names {
		sb, err := h.Sandbox(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range everyView {
			if _, err := sb.Stat(v); err != nil {
				t.Fatalf("%s %v under RLIMIT_NOFILE=%d: %v", n, v, limit, err)
			}
		}
	}
	if liveCount(h) >= len(names) {
		t.Fatalf("all %d sandboxes hold state under a limit of %d descriptors: no eviction happened", len(names), limit)
	}
	t.Log("every sandbox read under the limit")
}

// TestStatSandboxOpensNothing: listing and stat-ing sandbox directories
// makes no Sandbox and opens no file; it sees boot-error.json, and refuses
// a missing sandbox and one reached through a symbolic link.
func TestStatSandboxOpensNothing(t *testing.T) {
	home := newHomeDir(t)
	names := writeSmallSandboxes(t, home, 30, 10)
	mkSandbox(t, home, "failed").appendRaw(BootErrorName, `{"error":"boom"}`)
	if err := os.Symlink(filepath.Join(home, "sandboxes", names[0]), filepath.Join(home, "sandboxes", "link")); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	h := openClockedHome(t, home, clock, defaultMaxLive)
	fds := openFDs(t)
	listed, err := h.List()
	if err != nil || len(listed) != len(names)+1 {
		t.Fatalf("List: %d names (%v), want %d", len(listed), err, len(names)+1)
	}
	for _, n := range listed {
		boot, err := h.StatSandbox(n)
		if err != nil || boot != (n == "failed") {
			t.Fatalf("StatSandbox(%s) = %v, %v", n, boot, err)
		}
	}
	for _, n := range []string{"link", "nope", "..", ""} {
		if _, err := h.StatSandbox(n); !errors.Is(err, ErrNoSandbox) {
			t.Fatalf("StatSandbox(%q): %v, want ErrNoSandbox", n, err)
		}
	}
	// No descriptor added (others may close meanwhile: finalizers, the
	// clean-up of earlier tests).
	if knownCount(h) != 0 || openFDs(t) > fds {
		t.Fatalf("after listing and stat: %d sandboxes made, %d descriptors (was %d)", knownCount(h), openFDs(t), fds)
	}

	// A removed sandbox is still shown for HoldFor, then no more.
	if err := os.RemoveAll(filepath.Join(home, "sandboxes", names[1])); err != nil {
		t.Fatal(err)
	}
	if _, err := h.StatSandbox(names[1]); err != nil {
		t.Fatalf("within HoldFor of its last stat: %v", err)
	}
	clock.advance(HoldFor)
	if _, err := h.StatSandbox(names[1]); !errors.Is(err, ErrNoSandbox) {
		t.Fatalf("HoldFor after its removal: %v, want ErrNoSandbox", err)
	}
	h.sweep()
	h.mu.Lock()
	remembered := len(h.dirSeen)
	h.mu.Unlock()
	if remembered != 0 {
		t.Fatalf("the sweep kept %d stale directory stats", remembered)
	}
}

// TestSandboxAfterStatSandbox: the Sandbox of a directory StatSandbox
// found just before (the lookup of a file after the lookup of its
// directory) is the sandbox on disk now: one removed since is not found,
// even while StatSandbox still shows it (HoldFor), and one removed and
// made again is a new Sandbox with its new directory's identity.
func TestSandboxAfterStatSandbox(t *testing.T) {
	home := newHomeDir(t)
	names := writeSmallSandboxes(t, home, 3, 10)
	h := openClockedHome(t, home, newFakeClock(), defaultMaxLive)
	for _, n := range names {
		if _, err := h.StatSandbox(n); err != nil {
			t.Fatal(err)
		}
	}
	sb, err := h.Sandbox(names[0])
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := IdentifyDir(sb.LogsDir()); !ok || id != sb.DirID() {
		t.Fatalf("a new Sandbox after StatSandbox has identity %+v; its logs directory is %+v (%v)", sb.DirID(), id, ok)
	}

	if err := os.RemoveAll(filepath.Join(home, "sandboxes", names[1])); err != nil {
		t.Fatal(err)
	}
	if _, err := h.StatSandbox(names[1]); err != nil {
		t.Fatalf("within HoldFor of its last stat: %v", err)
	}
	if _, err := h.Sandbox(names[1]); !errors.Is(err, ErrNoSandbox) {
		t.Fatalf("Sandbox of a directory removed after StatSandbox found it: %v, want ErrNoSandbox", err)
	}

	old, err := h.Sandbox(names[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(home, "sandboxes", names[2])); err != nil {
		t.Fatal(err)
	}
	again := mkSandbox(t, home, names[2])
	again.exec(jl(0, "stdout", "again\n"))
	if _, err := h.StatSandbox(names[2]); err != nil {
		t.Fatal(err)
	}
	sb, err = h.Sandbox(names[2])
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := IdentifyDir(again.logs); sb == old || sb.DirID() != id {
		t.Fatalf("a sandbox made again: the same Sandbox %v, identity %+v; want a new one of %+v", sb == old, sb.DirID(), id)
	}
}

// TestCloseReleasesState: Close takes the state of the sandboxes that
// hold it, so opening and closing homes leaves no log file open; a handle
// still open keeps reading what it holds until it is closed.
func TestCloseReleasesState(t *testing.T) {
	home := newHomeDir(t)
	names := writeSmallSandboxes(t, home, 10, 20)
	before := openFDs(t)
	for range 3 {
		h, err := OpenHome(home)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			readEveryView(t, h, n)
		}
		if n := liveCount(h); n != len(names) {
			t.Fatalf("%d of %d sandboxes hold state before Close: the test proves nothing", n, len(names))
		}
		h.Close()
		if n := liveCount(h); n != 0 {
			t.Fatalf("%d sandboxes hold state after Close", n)
		}
	}
	if got := openFDs(t); got > before {
		t.Fatalf("%d descriptors after opening and closing 3 homes, %d before", got, before)
	}

	h, err := OpenHome(home)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := h.Sandbox(names[0])
	if err != nil {
		t.Fatal(err)
	}
	open, err := sb.OpenSnapshot(ViewMerged)
	if err != nil {
		t.Fatal(err)
	}
	want := snap(t, sb, ViewMerged)
	h.Close()
	got := make([]byte, open.Size())
	if n, err := open.ReadAt(got, 0); n != len(got) || (err != nil && err != io.EOF) {
		t.Fatalf("a snapshot opened before Close read %d of %d bytes: %v", n, len(got), err)
	}
	if !bytes.Equal(got, want) || len(want) == 0 {
		t.Fatalf("a snapshot opened before Close read %q, want %q", got, want)
	}
	open.Close()
	if got := openFDs(t); got > before {
		t.Fatalf("%d descriptors once the snapshot is closed, %d before", got, before)
	}
}

// TestCloseEndsTheSweeper: the sweeper is the home's one goroutine besides
// the watcher's, and Close (once or twice) ends them all.
func TestCloseEndsTheSweeper(t *testing.T) {
	home := newHomeDir(t)
	writeSmallSandboxes(t, home, 3, 10)
	before := runtime.NumGoroutine()
	for range 5 {
		h, err := OpenHome(home)
		if err != nil {
			t.Fatal(err)
		}
		readEveryView(t, h, "sb000")
		h.Close()
		h.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		<-time.After(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after closing 5 homes, %d before", n, before)
	}
}
