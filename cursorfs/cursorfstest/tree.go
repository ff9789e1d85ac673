package cursorfstest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// Tree is the whole filesystem as a Target shows it: the root, the
// sandbox directories, their sessions directories and the sessions'.
// Paths are relative to the root, which is "".
type Tree interface {
	// ReadDir lists the directory at path.
	ReadDir(path string) ([]DirEntry, error)
	// Stat stats path by name.
	Stat(path string) (Stat, error)
}

// DirEntry is a name a directory lists, with the inode number and type
// readdir gives.
type DirEntry struct {
	Name string
	Ino  uint64
	Dir  bool
}

// Stat is what stat shows of a name.
type Stat struct {
	Ino        uint64
	Dir        bool
	Perm       uint32 // the permission bits
	Nlink      uint32
	ModTime    time.Time
	ChangeTime time.Time
}

// TreeEnv is a Tree over a home made by NewHome, whose sandbox Box is
// written by W.
type TreeEnv struct {
	Tree
	W *msbwriter.Sandbox
}

// TreeCheck is one row of the directories' table.
type TreeCheck struct {
	Name string
	Run  func(t *testing.T, e TreeEnv)
}

// RunTree runs every check of TreeChecks against e, in order, as
// subtests. The last one adds a session to Box.
func RunTree(t *testing.T, e TreeEnv) {
	for _, c := range TreeChecks {
		t.Run(c.Name, func(t *testing.T) { c.Run(t, e) })
	}
}

// TreeChecks is the table of the directories.
var TreeChecks = []TreeCheck{
	{"root lists the sandboxes", checkRoot},
	{"sandbox directory", checkSandboxDir},
	{"sessions directory", checkSessionsDir},
	{"session directory", checkSessionDir},
	{"inode numbers", checkInodes},
	{"modes", checkDirModes},
	{"times move with the listing", checkDirTimes},
}

// The paths of the directories of Box.
var (
	sessionsPath = Box + "/sessions"
	sessionPath  = sessionsPath + "/" + strconv.Itoa(SessionID)
	otherPath    = sessionsPath + "/" + strconv.Itoa(OtherSession)
	treeDirs     = []string{"", Box, sessionsPath, sessionPath, otherPath}
)

func checkRoot(t *testing.T, e TreeEnv) {
	expectList(t, e, "", []DirEntry{{Name: Box, Dir: true}})
	expectDir(t, e, "", 3)
	for _, p := range []string{"nope", ".hidden", Box + "/nope", "nope/merged", "nope/sessions"} {
		expectAbsent(t, e, p)
	}
}

func checkSandboxDir(t *testing.T, e TreeEnv) {
	var want []DirEntry
	for _, name := range sandboxLayout.snapshots() {
		want = append(want, DirEntry{Name: name})
	}
	ents := expectList(t, e, Box, append(want, DirEntry{Name: "sessions", Dir: true}))
	if last := ents[len(ents)-1]; last.Name != "sessions" {
		t.Errorf("%s lists %s last, want sessions", Box, last.Name)
	}
	expectDir(t, e, Box, 3)
	for _, name := range sandboxLayout.absent {
		expectAbsent(t, e, Box+"/"+name)
	}
}

func checkSessionsDir(t *testing.T, e TreeEnv) {
	ents := expectList(t, e, sessionsPath, []DirEntry{
		{Name: strconv.Itoa(SessionID), Dir: true},
		{Name: strconv.Itoa(OtherSession), Dir: true},
	})
	if len(ents) == 2 && ents[0].Name != strconv.Itoa(SessionID) {
		t.Errorf("%s lists %q, want the ids in order", sessionsPath, names(ents))
	}
	expectDir(t, e, sessionsPath, 4)
	for _, name := range []string{"01", "+1", "1x", "3", "-1", "18446744073709551616", "info"} {
		expectAbsent(t, e, sessionsPath+"/"+name)
	}
}

func checkSessionDir(t *testing.T, e TreeEnv) {
	var want []DirEntry
	for _, name := range sessionLayout.snapshots() {
		want = append(want, DirEntry{Name: name})
	}
	for _, dir := range []string{sessionPath, otherPath} {
		expectList(t, e, dir, want)
		expectDir(t, e, dir, 2)
		for _, name := range sessionLayout.absent {
			expectAbsent(t, e, dir+"/"+name)
		}
	}
}

// checkInodes: every directory and file of the tree has its own inode
// number, which stays the same while it does not change. readdir and stat
// agree on it, but for a snapshot file, the cursor and an info, whose stat
// may give the number of the state an open now shows (docs/caching.md):
// readdir gives the name's.
func checkInodes(t *testing.T, e TreeEnv) {
	seen := map[uint64]string{}
	for _, dir := range treeDirs {
		st := stat(t, e, dir)
		if other, dup := seen[st.Ino]; dup && other != dir {
			t.Errorf("%q and %q share inode %d", dir, other, st.Ino)
		}
		seen[st.Ino] = dir
	}
	for _, dir := range treeDirs {
		for _, ent := range readDir(t, e, dir) {
			p := join(dir, ent.Name)
			if other, dup := seen[ent.Ino]; dup && other != p {
				t.Errorf("%q and %q share inode %d", p, other, ent.Ino)
			}
			seen[ent.Ino] = p
			st := stat(t, e, p)
			if st.Ino != ent.Ino && isSnapshot(ent.Name) {
				if other, dup := seen[st.Ino]; dup {
					t.Errorf("%q and %q share inode %d", p, other, st.Ino)
				}
				seen[st.Ino] = p + " (stat)"
			} else if st.Ino != ent.Ino || st.Dir != ent.Dir {
				t.Errorf("%s: readdir says inode %d (dir %v), stat %d (dir %v)", p, ent.Ino, ent.Dir, st.Ino, st.Dir)
			}
			if again := stat(t, e, p); again.Ino != st.Ino {
				t.Errorf("%s: inode %d, then %d, with nothing written", p, st.Ino, again.Ino)
			}
		}
		if again := readDir(t, e, dir); !slices.Equal(again, readDir(t, e, dir)) {
			t.Errorf("%q: two listings differ", dir)
		}
	}
}

// checkDirModes: without AllowOther the directories are 0555.
func checkDirModes(t *testing.T, e TreeEnv) {
	for _, dir := range treeDirs {
		if st := stat(t, e, dir); st.Perm != 0o555 {
			t.Errorf("%q: mode %o, want 555", dir, st.Perm)
		}
	}
}

// checkDirTimes: an append to a session moves that session directory's
// time to its entry's, and no other directory's time or any ctime of the
// directories of sessions (tar reads them while the sandbox is written);
// a new session moves the sessions directory's time.
func checkDirTimes(t *testing.T, e TreeEnv) {
	before := map[string]Stat{}
	for _, dir := range treeDirs {
		before[dir] = stat(t, e, dir)
	}
	time.Sleep(heldState + 20*time.Millisecond) // past the state shown before
	appendLine(t, e.W, SessionID, "a later line")
	waitFor(t, "the session's time to move", func() bool {
		return stat(t, e, sessionPath).ModTime.After(before[sessionPath].ModTime)
	})
	for _, dir := range treeDirs {
		st := stat(t, e, dir)
		if dir != sessionPath && !st.ModTime.Equal(before[dir].ModTime) {
			t.Errorf("%q: time moved from %v to %v, its listing did not change", dir, before[dir].ModTime, st.ModTime)
		}
		if dir != "" && dir != Box && !st.ChangeTime.Equal(before[dir].ChangeTime) {
			t.Errorf("%q: ctime moved from %v to %v", dir, before[dir].ChangeTime, st.ChangeTime)
		}
	}
	appendLine(t, e.W, 3, "a new session")
	waitFor(t, "session 3 to be listed", func() bool {
		return slices.Contains(names(readDir(t, e, sessionsPath)), "3")
	})
	st := stat(t, e, sessionsPath)
	if !st.ModTime.After(before[sessionsPath].ModTime) || !st.ChangeTime.Equal(before[sessionsPath].ChangeTime) {
		t.Errorf("sessions after a new session: time %v (was %v), ctime %v (was %v)", st.ModTime, before[sessionsPath].ModTime, st.ChangeTime, before[sessionsPath].ChangeTime)
	}
	if st.Nlink != 5 {
		t.Errorf("sessions with 3 sessions: %d links, want 5", st.Nlink)
	}
}

// expectList fails unless dir lists exactly want's names, each of want's
// type, and returns the listing.
func expectList(t *testing.T, e TreeEnv, dir string, want []DirEntry) []DirEntry {
	t.Helper()
	ents := readDir(t, e, dir)
	got := map[string]bool{}
	for _, ent := range ents {
		got[ent.Name] = ent.Dir
	}
	for _, w := range want {
		if isDir, ok := got[w.Name]; !ok || isDir != w.Dir {
			t.Errorf("%q lists %q: want %s (dir %v)", dir, names(ents), w.Name, w.Dir)
		}
	}
	if len(ents) != len(want) {
		t.Errorf("%q lists %q, want %d names", dir, names(ents), len(want))
	}
	return ents
}

// expectDir fails unless path is a directory with nlink links.
func expectDir(t *testing.T, e TreeEnv, path string, nlink uint32) {
	t.Helper()
	if st := stat(t, e, path); !st.Dir || st.Nlink != nlink {
		t.Errorf("%q: dir %v, %d links; want a directory with %d", path, st.Dir, st.Nlink, nlink)
	}
}

// expectAbsent fails unless stat of path fails with ENOENT.
func expectAbsent(t *testing.T, e TreeEnv, path string) {
	t.Helper()
	if _, err := e.Stat(path); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("stat %q: %v, want ENOENT", path, err)
	}
}

func readDir(t *testing.T, e TreeEnv, dir string) []DirEntry {
	t.Helper()
	ents, err := e.ReadDir(dir)
	if err != nil {
		t.Fatalf("readdir %q: %v", dir, err)
	}
	return ents
}

func stat(t *testing.T, e TreeEnv, path string) Stat {
	t.Helper()
	st, err := e.Stat(path)
	if err != nil {
		t.Fatalf("stat %q: %v", path, err)
	}
	return st
}

// isSnapshot reports whether name is that of a file whose stat gives the
// number of its state: a snapshot's, the cursor's or an info's.
func isSnapshot(name string) bool {
	return name == "merged.jsonl" || name == "cursor" || name == "info" || slices.Contains(sandboxLayout.views, name)
}

func names(ents []DirEntry) []string {
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name
	}
	return out
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return fmt.Sprintf("%s/%s", dir, name)
}
