package test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// sessionWriter writes the exec.log chunks of several sessions of one
// sandbox, as microsandbox does, and keeps what each session wrote to each
// source. Each chunk is 1 ms after the one before.
type sessionWriter struct {
	t     *testing.T
	w     *msbwriter.Sandbox
	mu    sync.Mutex
	clock time.Time
	wrote map[uint64]map[string][]byte
	last  map[uint64]time.Time // each session's last chunk's time
}

func newSessionWriter(t *testing.T, home, name string, rotateAt int64) *sessionWriter {
	t.Helper()
	w, err := msbwriter.Create(home, name, msbwriter.Options{RotateAt: rotateAt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return &sessionWriter{t: t, w: w, clock: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC),
		wrote: map[uint64]map[string][]byte{}, last: map[uint64]time.Time{}}
}

// chunk writes one chunk of session id (none for a system chunk).
func (s *sessionWriter) chunk(id uint64, src, data string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = s.clock.Add(time.Millisecond)
	system := src == "system"
	if err := s.w.Exec(msbwriter.Chunk{Time: s.clock, Source: src, Data: []byte(data), ID: id, HasID: !system}); err != nil {
		s.t.Fatal(err)
	}
	if system {
		return
	}
	if s.wrote[id] == nil {
		s.wrote[id] = map[string][]byte{}
	}
	s.wrote[id][src] = append(s.wrote[id][src], data...)
	s.last[id] = s.clock
}

// of returns what session id wrote to src.
func (s *sessionWriter) of(id uint64, src string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.wrote[id][src])
}

// interleave writes n rounds of three sessions: 3 a build (stdout and
// stderr, lines split across chunks), 7 a shell in a PTY (output, CRLF and
// colour), 12 a test run (stdout), and now and then a system chunk.
func (s *sessionWriter) interleave(from, n int) {
	for i := from; i < from+n; i++ {
		s.chunk(3, "stdout", fmt.Sprintf("   Compiling crate%d v0.%d", i, i%7))
		s.chunk(7, "output", fmt.Sprintf("\x1b[32m$\x1b[0m echo %d\r\n%d\r\n", i, i))
		s.chunk(3, "stdout", " (build)\n")
		if i%5 == 0 {
			s.chunk(3, "stderr", fmt.Sprintf("warning: unused variable `x%d`\n", i))
			s.chunk(0, "system", fmt.Sprintf("heartbeat %d\n", i))
		}
		s.chunk(12, "stdout", fmt.Sprintf("test case_%04d ... ok\n", i))
	}
}

// sessionMount mounts a new home whose sandbox box holds rounds of
// interleave, rotating at rotateAt (0: microsandbox's 10 MiB).
func sessionMount(t *testing.T, rounds int, rotateAt int64) (*sessionWriter, *mountProc) {
	t.Helper()
	home := t.TempDir()
	s := newSessionWriter(t, home, "box", rotateAt)
	s.interleave(0, rounds)
	return s, mount(t, home)
}

// TestSessionsMount: a live sandbox with three interleaved sessions, one
// in a PTY, through a real mount and real tools.
func TestSessionsMount(t *testing.T) {
	s, m := sessionMount(t, 300, 32<<10) // rotates; nothing leaves the chain
	dir := m.path("box", "sessions")

	// Listed in the order of the ids.
	if got := sh(t, 5*time.Second, "ls -U "+q(dir)); got != "3\n7\n12\n" {
		t.Errorf("ls -U sessions: %q", got)
	}
	if got := sh(t, 5*time.Second, "ls -v "+q(dir)); got != "3\n7\n12\n" {
		t.Errorf("ls -v sessions: %q", got)
	}
	if got := sh(t, 5*time.Second, "ls "+q(filepath.Join(dir, "7"))); got != "info\nmerged\nmerged.jsonl\noutput\nstderr\nstdout\n" {
		t.Errorf("ls sessions/7: %q", got)
	}
	checkSessionFiles(t, m, s, 3, 7, 12)

	// Written while mounted: the files show it at a later open (the mount
	// holds a state it has shown for 100 ms, the kernel a directory's
	// attributes for 0.5 s).
	s.interleave(300, 20)
	waitFor(t, 2*time.Second, "the appends to show", func() bool {
		got, err := os.ReadFile(m.path("box", "sessions", "12", "stdout"))
		return err == nil && bytes.Equal(got, s.of(12, "stdout"))
	})
	checkSessionFiles(t, m, s, 3, 7, 12)
	waitFor(t, 2*time.Second, "session 12's time to move", func() bool {
		fi, err := os.Stat(m.path("box", "sessions", "12"))
		return err == nil && fi.ModTime().Equal(s.last[12])
	})
	checkSessionTimes(t, m, s)
}

// checkSessionFiles: each session's stdout, stderr and output hold exactly
// the chunks it wrote there, concatenated; merged holds its lines only.
func checkSessionFiles(t *testing.T, m *mountProc, s *sessionWriter, ids ...uint64) {
	t.Helper()
	for _, id := range ids {
		for _, src := range []string{"stdout", "stderr", "output"} {
			got := mustRead(t, m.path("box", "sessions", strconv.FormatUint(id, 10), src))
			if want := s.of(id, src); !bytes.Equal(got, want) {
				t.Errorf("sessions/%d/%s: %d bytes, want the %d its chunks hold", id, src, len(got), len(want))
			}
		}
		merged := mustRead(t, m.path("box", "sessions", strconv.FormatUint(id, 10), "merged"))
		for _, l := range lines(merged) {
			if strings.Contains(l, " system ") || (id == 7) != strings.Contains(l, " output ") {
				t.Fatalf("sessions/%d/merged holds %q", id, l)
			}
		}
	}
}

// checkSessionTimes: a session directory's mtime is its last entry's; the
// sessions directory's moves when a session appears; inode numbers are
// distinct, and stable but for a snapshot file's, which is its state's.
func checkSessionTimes(t *testing.T, m *mountProc, s *sessionWriter) {
	t.Helper()
	for _, id := range []uint64{3, 7, 12} {
		fi, err := os.Stat(m.path("box", "sessions", strconv.FormatUint(id, 10)))
		if err != nil {
			t.Fatal(err)
		}
		if want := s.last[id]; !fi.ModTime().Equal(want) || !fi.IsDir() {
			t.Errorf("sessions/%d: mtime %v, want its last entry's %v", id, fi.ModTime(), want)
		}
	}
	inos := map[uint64]string{}
	for _, p := range []string{"", "3", "7", "12", "3/stdout", "7/stdout", "3/info"} {
		ino := inode(t, m.path("box", "sessions", p))
		if other, dup := inos[ino]; dup {
			t.Errorf("sessions/%s and sessions/%s share inode %d", p, other, ino)
		}
		inos[ino] = p
	}
	fi0, err := os.Stat(m.path("box", "sessions"))
	if err != nil {
		t.Fatal(err)
	}
	s.chunk(40, "stdout", "a new session\n")
	took := waitFor(t, 2*time.Second, "session 40 to be listed", func() bool {
		out, _, err := shErr(time.Second, "ls -U "+q(m.path("box", "sessions")))
		return err == nil && out == "3\n7\n12\n40\n"
	})
	t.Logf("new session listed after %v", took)
	fi1, err := os.Stat(m.path("box", "sessions"))
	if err != nil {
		t.Fatal(err)
	}
	if !fi1.ModTime().After(fi0.ModTime()) {
		t.Errorf("sessions/ mtime did not move when a session appeared: %v -> %v", fi0.ModTime(), fi1.ModTime())
	}
	// tar compares ctimes: a directory's must stay put while sessions come.
	if c0, c1 := fi0.Sys().(*syscall.Stat_t).Ctim, fi1.Sys().(*syscall.Stat_t).Ctim; c0 != c1 {
		t.Errorf("sessions/ ctime moved when a session appeared: %v -> %v", c0, c1)
	}
	// A directory keeps its number; a snapshot file's and an info's is
	// that of the state an open shows, which the new session's entry moved
	// (its time is the newest of the exec chain's files: docs/caching.md).
	for ino, p := range inos {
		got := inode(t, m.path("box", "sessions", p))
		if state := strings.HasSuffix(p, "/stdout") || strings.HasSuffix(p, "/info"); state == (got == ino) {
			t.Errorf("sessions/%s: inode %d, then %d", p, ino, got)
		}
	}
	if got := string(mustRead(t, m.path("box", "sessions", "40", "stdout"))); got != "a new session\n" {
		t.Errorf("sessions/40/stdout: %q", got)
	}
}

// TestSessionsBadNames: names that are no session's are ENOENT, and so
// are a session's names that only a sandbox has.
func TestSessionsBadNames(t *testing.T) {
	_, m := sessionMount(t, 2, 0)
	for _, p := range []string{"abc", "99999999999999999999", "18446744073709551616", "007", "+7", "7x", "-7", "5", "0",
		"7/system", "7/seek", "7/cursor", "7/nope", "7/system.follow", "5/info"} {
		_, err := os.Stat(m.path("box", "sessions", p))
		if errnoOf(err) != syscall.ENOENT {
			t.Errorf("stat sessions/%s: %v, want ENOENT", p, err)
		}
	}
	if _, err := os.Stat(m.path("nobox", "sessions")); errnoOf(err) != syscall.ENOENT {
		t.Errorf("stat nobox/sessions: %v, want ENOENT", err)
	}
	if got := sh(t, 5*time.Second, "cat "+q(m.path("box", "sessions", "18446744073709551615", "info"))+" 2>&1 || echo failed"); !strings.Contains(got, "No such file") {
		t.Errorf("cat of an absent session's info: %q", got)
	}
}

// TestSessionsFollow: tail -f of a session's merged.follow shows the last
// lines of that session only, then its appends, and never another's.
func TestSessionsFollow(t *testing.T) {
	s, m := sessionMount(t, 50, 0)
	tail := startReader(t, "tail", "-f", m.path("box", "sessions", "12", "merged.follow"))
	for i := 40; i < 50; i++ {
		if l := tail.next(t, 5*time.Second); !strings.HasSuffix(l, fmt.Sprintf(" stdout test case_%04d ... ok", i)) {
			t.Fatalf("tail -f line %d: %q", i, l)
		}
	}
	for i := range 3 {
		s.chunk(3, "stdout", fmt.Sprintf("not mine %d\n", i))
		s.chunk(7, "output", fmt.Sprintf("not mine either %d\r\n", i))
		s.chunk(12, "stdout", fmt.Sprintf("mine %d\n", i))
		if l := tail.next(t, 5*time.Second); !strings.HasSuffix(l, fmt.Sprintf(" stdout mine %d", i)) {
			t.Fatalf("tail -f after append %d: %q", i, l)
		}
	}
	// cat streams the PTY session's appends, and only its.
	cat := startReader(t, "cat", m.path("box", "sessions", "7", "output.follow"))
	cat.until(t, "not mine either 2", 5*time.Second)
	s.chunk(12, "stdout", "not for cat\n")
	s.chunk(7, "output", "for cat\r\n")
	if l := cat.next(t, 5*time.Second); l != "for cat" { // the scanner drops "\r\n"
		t.Fatalf("cat output.follow: %q", l)
	}
}

// TestSessionsWalkersAndCLI: grep -r and tar of the mount finish and take
// the session snapshots (never a follow file); the CLI's logs --id and
// sessions --json agree with the mount's files.
func TestSessionsWalkersAndCLI(t *testing.T) {
	_, m := sessionMount(t, 100, 16<<10)
	home := m.home
	grep := sh(t, 30*time.Second, fmt.Sprintf("grep -r -l 'case_0042' %s", q(m.dir)))
	for _, want := range []string{"box/sessions/12/stdout", "box/sessions/12/merged", "box/sessions/12/merged.jsonl", "box/stdout"} {
		if !strings.Contains(grep, filepath.Join(m.dir, want)+"\n") {
			t.Errorf("grep -r -l: no %s in %q", want, grep)
		}
	}
	if strings.Contains(grep, "sessions/3/") || strings.Contains(grep, ".follow") || strings.Contains(grep, ".live") {
		t.Errorf("grep -r -l: %q", grep)
	}
	out := t.TempDir()
	sh(t, 30*time.Second, fmt.Sprintf("tar -C %s -cf - box | tar -C %s -xf -", q(m.dir), q(out)))
	for _, id := range []string{"3", "7", "12"} {
		for _, name := range []string{"merged", "stdout", "stderr", "output", "merged.jsonl", "info"} {
			if got, want := mustRead(t, filepath.Join(out, "box", "sessions", id, name)), mustRead(t, m.path("box", "sessions", id, name)); !bytes.Equal(got, want) {
				t.Errorf("tar's sessions/%s/%s: %d bytes, the mount's %d", id, name, len(got), len(want))
			}
		}
		if _, err := os.Stat(filepath.Join(out, "box", "sessions", id, "merged.follow")); !os.IsNotExist(err) {
			t.Errorf("tar took sessions/%s/merged.follow: %v", id, err)
		}
	}

	cli := q(binary)
	home = "--home " + q(home)
	var infos []string
	for _, id := range []string{"3", "7", "12"} {
		infos = append(infos, string(mustRead(t, m.path("box", "sessions", id, "info"))))
		for _, c := range []struct{ args, file string }{
			{"--source all -t", "merged"},
			{"--source stdout", "stdout"},
			{"--source output", "output"},
		} {
			got := sh(t, 30*time.Second, fmt.Sprintf("%s logs %s box --id %s %s", cli, home, id, c.args))
			if want := string(mustRead(t, m.path("box", "sessions", id, c.file))); got != want {
				t.Errorf("logs --id %s %s: %d bytes; sessions/%s/%s: %d", id, c.args, len(got), id, c.file, len(want))
			}
		}
	}
	if got := sh(t, 30*time.Second, cli+" sessions box --json "+home); got != strings.Join(infos, "") {
		t.Errorf("sessions --json:\n%s\ninfo files:\n%s", got, strings.Join(infos, ""))
	}
}
