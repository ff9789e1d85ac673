package test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// requestRE matches a request in the --debug log: "rx 12: READDIR n5 …".
var requestRE = regexp.MustCompile(`rx [0-9]+: ([A-Z_]+) `)

// requests counts the requests of each opcode the mount logged (--debug)
// since the log was from bytes long.
func (m *mountProc) requests(from int) map[string]int {
	counts := map[string]int{}
	for _, sm := range requestRE.FindAllStringSubmatch(m.stderr.String()[from:], -1) {
		counts[sm[1]]++
	}
	return counts
}

// requestLines returns the lines of the mount's log (--debug) since from
// that are requests of opcode op or replies to them, for failure messages.
func (m *mountProc) requestLines(from int, op string) string {
	var out []string
	for _, l := range strings.Split(m.stderr.String()[from:], "\n") {
		if strings.Contains(l, " "+op+" ") || strings.Contains(l, ": "+op+",") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// logLen returns the length of the mount's log so far.
func (m *mountProc) logLen() int { return len(m.stderr.String()) }

// lsNames lists dir with ls -A, sorted.
func lsNames(t *testing.T, dir string) []string {
	t.Helper()
	names := lines([]byte(sh(t, 5*time.Second, "ls -A "+q(dir))))
	slices.Sort(names)
	return names
}

// dirsMount mounts, with --debug, a home whose sandbox box holds sessions
// 3, 7 and 12, and returns its writer, the mount and the four kinds of
// directories: the root, box, its sessions/ and session 3's.
func dirsMount(t *testing.T) (*sessionWriter, *mountProc, []string) {
	t.Helper()
	home := t.TempDir()
	s := newSessionWriter(t, home, "box", 0)
	s.interleave(0, 20)
	m := mount(t, home, "--debug")
	return s, m, []string{m.dir, m.path("box"), m.path("box", "sessions"), m.path("box", "sessions", "3")}
}

// TestListingsKeptByKernel: a second listing of an unchanged directory —
// the root, a sandbox's, its sessions/, a session's — comes from the
// kernel's cache: it shows the same names and no READDIR reaches the
// mount.
func TestListingsKeptByKernel(t *testing.T) {
	_, m, dirs := dirsMount(t)
	first := map[string][]string{}
	from := m.logLen()
	for _, d := range dirs {
		first[d] = lsNames(t, d)
	}
	if n := m.requests(from)["READDIR"] + m.requests(from)["READDIRPLUS"]; n < len(dirs) {
		t.Fatalf("the first listings made %d READDIR requests, want at least %d: is --debug logging requests?", n, len(dirs))
	}
	if err := listFromCache(t, m, dirs, first); err != nil {
		t.Error(err)
	}
}

// listFromCache lists dirs again until a round of listings makes no
// READDIR, at most three rounds, and fails the test if a listing differs
// from want (when given). The kernel keeps a listing in pages it may
// reclaim at any time, so one round may read a directory again; a mount
// whose listings the kernel does not keep makes READDIRs in every round.
func listFromCache(t *testing.T, m *mountProc, dirs []string, want map[string][]string) error {
	t.Helper()
	var err error
	for range 3 {
		from := m.logLen()
		for _, d := range dirs {
			if got := lsNames(t, d); want != nil && !slices.Equal(got, want[d]) {
				t.Errorf("listing of %s again: %v, first %v", d, got, want[d])
			}
		}
		got := m.requests(from)
		if n := got["READDIR"] + got["READDIRPLUS"]; n != 0 {
			err = fmt.Errorf("listings of unchanged directories made %d READDIR requests, want 0 (requests: %v):\n%s", n, got, m.requestLines(from, "READDIRPLUS"))
			t.Log(err)
			continue
		}
		return nil
	}
	return err
}

// TestCachedListingsSeeChanges: while the kernel keeps the listings, a
// new sandbox shows in the root within 1 s and a removed one goes within
// 1 s; a new session shows in sessions/ and a boot error in the
// sandbox's directory within 1 s.
func TestCachedListingsSeeChanges(t *testing.T) {
	s, m, dirs := dirsMount(t)
	for _, d := range dirs {
		lsNames(t, d)
	}
	if err := listFromCache(t, m, dirs, nil); err != nil {
		t.Fatalf("%v: the test would prove nothing", err)
	}
	has := func(dir, name string) func() bool {
		return func() bool { return slices.Contains(lsNames(t, dir), name) }
	}
	w, err := msbwriter.Create(m.home, "second", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mark(t, w, "hello")
	t.Logf("new sandbox listed after %v", waitFor(t, time.Second, "second to appear in the root", has(m.dir, "second")))
	w.Close()
	if err := os.RemoveAll(sandboxDir(m.home, "second")); err != nil {
		t.Fatal(err)
	}
	t.Logf("removed sandbox unlisted after %v", waitFor(t, time.Second, "second to leave the root", func() bool { return !has(m.dir, "second")() }))

	s.chunk(20, "stdout", "a new session\n")
	t.Logf("new session listed after %v", waitFor(t, time.Second, "session 20 in sessions/", has(dirs[2], "20")))
	if err := s.w.BootError(`{"error":"boom"}`); err != nil {
		t.Fatal(err)
	}
	t.Logf("boot error listed after %v", waitFor(t, time.Second, "boot-error.json in box", has(dirs[1], "boot-error.json")))
	if got := strings.Join(lsNames(t, dirs[3]), " "); got != "info merged merged.jsonl output stderr stdout" {
		t.Errorf("session 3 lists %q", got)
	}
}

// TestWalkDescendsWithoutLookups: find descends into a sandbox's session
// directories with the entries the listing of sessions/ gave (READDIRPLUS):
// its LOOKUPs are the sandbox's directory's and its sessions/'s, which a
// sandbox's listing gives no entry for (its stat would index the sandbox's
// logs at a plain ls), and what find prints is what it printed with a
// LOOKUP per directory.
func TestWalkDescendsWithoutLookups(t *testing.T) {
	_, m, _ := dirsMount(t)
	from := m.logLen()
	out := sh(t, 10*time.Second, "find "+q(m.dir)+" | sort")
	got := m.requests(from)
	if got["LOOKUP"] != 2 {
		t.Errorf("find made %d LOOKUP requests, want 2 (the sandbox's directory and its sessions/); requests: %v", got["LOOKUP"], got)
	}
	if got["OPENDIR"] > 1 || got["RELEASEDIR"] != 0 { // the first OPENDIR, refused, is the mount's last
		t.Errorf("find made %d OPENDIR and %d RELEASEDIR requests, want at most 1 and 0; requests: %v", got["OPENDIR"], got["RELEASEDIR"], got)
	}
	var want []string
	for _, p := range []string{"", "box", "box/sessions"} {
		want = append(want, strings.TrimSuffix(m.path(p), "/"))
	}
	files := []string{"info", "merged", "merged.jsonl", "output", "stderr", "stdout"}
	for _, id := range []string{"12", "3", "7"} {
		want = append(want, m.path("box", "sessions", id))
		for _, f := range files {
			want = append(want, m.path("box", "sessions", id, f))
		}
	}
	for _, f := range []string{"cursor", "merged", "merged.jsonl", "output", "stderr", "stdout", "system"} {
		want = append(want, m.path("box", f))
	}
	slices.Sort(want)
	if g := lines([]byte(out)); !slices.Equal(g, want) {
		t.Errorf("find printed\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

// TestLongRootListing: a root of 1,500 sandboxes, which the kernel reads in
// several READDIRs, lists every sandbox once, in order, also when other
// listings of it stop early (ls | head) or run at the same time.
func TestLongRootListing(t *testing.T) {
	home := t.TempDir()
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: 1500, Lines: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := mount(t, home, "--debug")
	want := strings.Join(names, "\n")
	from := m.logLen()
	if got := sh(t, 10*time.Second, "ls -f "+q(m.dir)+" | grep -v '^[.]'"); got != want+"\n" && got != want {
		t.Fatalf("ls -f of the root: %d names, want %d in order", len(lines([]byte(got))), len(names))
	}
	if n := m.requests(from)["READDIRPLUS"] + m.requests(from)["READDIR"]; n < 3 {
		t.Fatalf("the root was read in %d READDIRs: the test would prove nothing", n)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			script := fmt.Sprintf("ls -f %s | head -%d", q(m.dir), 1+i*100) // stops early
			if i%2 == 0 {
				script = "ls -f " + q(m.dir) + " | grep -v '^[.]'"
			}
			out, _, err := shErr(10*time.Second, script)
			if err == nil && i%2 == 0 && strings.TrimSuffix(out, "\n") != want {
				err = fmt.Errorf("a concurrent ls -f listed %d names, want the %d in order", len(lines([]byte(out))), len(names))
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := lines([]byte(sh(t, 10*time.Second, "find "+q(m.dir)+" -maxdepth 1 -mindepth 1 | sort"))); len(got) != len(names) {
		t.Errorf("find -maxdepth 1 after them: %d names, want %d", len(got), len(names))
	}
}

// TestWalkSessionsEntryWhenIndexed: once a sandbox's index is at hand —
// its summary parked after a first walk — a listing of the sandbox gives
// its sessions/ the entry a LOOKUP would (READDIRPLUS): a walk after the
// kernel gave the sandbox back (its idle interval) looks up the sandbox's
// directory alone, and prints what the first walk printed.
func TestWalkSessionsEntryWhenIndexed(t *testing.T) {
	home := t.TempDir()
	s := newSessionWriter(t, home, "box", 0)
	s.interleave(0, 20)
	time.Sleep(engine.RacyMargin) // written before the walks: the parked summary vouches for the files
	m := mount(t, home, "--debug")
	first := sh(t, 10*time.Second, "find "+q(m.dir)+" | sort")
	waitFor(t, 15*time.Second, "the sandbox given back to the kernel", func() bool {
		return strings.Contains(m.stderr.String(), "NOTIFY_INVAL_ENTRY")
	})
	// The engine parked the sandbox's summary at its idle release (3 s),
	// before the kernel was given it back (5 s); a second more for a
	// release a loaded machine made late.
	time.Sleep(time.Second)
	from := m.logLen()
	again := sh(t, 10*time.Second, "find "+q(m.dir)+" | sort")
	got := m.requests(from)
	if got["READDIRPLUS"] == 0 {
		t.Fatalf("the second find read no listing: the test proves nothing; requests: %v", got)
	}
	if got["LOOKUP"] != 1 {
		t.Errorf("the second find made %d LOOKUP requests, want 1 (the sandbox's directory); requests: %v\n%s", got["LOOKUP"], got, m.requestLines(from, "LOOKUP"))
	}
	if again != first {
		t.Errorf("the second find printed\n%s\nthe first\n%s", again, first)
	}
}
