package test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// statAfterListing is run by python3: it looks one file of a sandbox up
// (which makes its thread one that stats what it lists), then lists the
// sandbox and one of its sessions and stats every file they list, at
// once, as du and ls -l do.
const statAfterListing = `import os, sys
box = sys.argv[1]
os.stat(os.path.join(box, "merged"))
for d in (box, os.path.join(box, "sessions", "3")):
    for name in os.listdir(d):
        os.stat(os.path.join(d, name))
`

// TestListingGivesFilesToLookers: once a sandbox's index is at hand (its
// summary parked after a first walk), a listing read by a thread that has
// looked a file up gives the files' entries, and the stats that follow it
// at once need no LOOKUP (du, ls -l, grep -r); a listing
// read by find, which only lists, gives none: a stat right after it is a
// LOOKUP.
func TestListingGivesFilesToLookers(t *testing.T) {
	python := needPython(t)
	home := t.TempDir()
	for _, name := range []string{"box", "other"} {
		s := newSessionWriter(t, home, name, 0)
		s.interleave(0, 20)
	}
	time.Sleep(engine.RacyMargin) // written before the walks: the parked summary vouches for the files
	m := mount(t, home, "--debug")
	sh(t, 10*time.Second, "grep -r -c Compiling "+q(m.dir)+" >/dev/null; true") // indexes both sandboxes' views
	waitFor(t, 15*time.Second, "the sandboxes given back to the kernel", func() bool {
		return strings.Count(m.stderr.String(), "NOTIFY_INVAL_ENTRY") >= 2
	})
	time.Sleep(time.Second) // as TestWalkSessionsEntryWhenIndexed: a release a loaded machine made late

	from := m.logLen()
	if out, err := exec.Command(python, "-c", statAfterListing, m.path("box")).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lookups := m.requestLines(from, "LOOKUP")
	if got := m.requests(from); got["READDIRPLUS"] == 0 {
		t.Fatalf("the listings read no READDIRPLUS: the test proves nothing; requests: %v", got)
	}
	for _, name := range []string{"stdout", "stderr", "output", "system", "merged.jsonl", "cursor", "info"} {
		if n := strings.Count(lookups, `\"`+name+`\"`); n != 0 {
			t.Errorf("the stats after the listings looked %s up %d times, want 0: its entry came with the listing\n%s", name, n, lookups)
		}
	}
	if n := strings.Count(lookups, `\"merged\"`); n != 1 {
		t.Errorf("merged looked up %d times, want 1 (the stat before the listings)\n%s", n, lookups)
	}

	from = m.logLen()
	other := m.path("other")
	sh(t, 10*time.Second, "find "+q(other)+" >/dev/null && stat -c %s "+q(other+"/stdout")+" >/dev/null")
	if got := m.requests(from); got["READDIRPLUS"] == 0 {
		t.Fatalf("find read no READDIRPLUS: the test proves nothing; requests: %v", got)
	}
	if n := strings.Count(m.requestLines(from, "LOOKUP"), `\"stdout\"`); n == 0 {
		t.Errorf("the stat right after find made no LOOKUP of stdout: find's listing gave files' entries\n%s", m.requestLines(from, "LOOKUP"))
	}
}
