// Package cursorfstest is the conformance table of the msb-logfs files:
// one list of checks (names resolve or not, listed or not, stat by name
// against the bytes an open shows, snapshots stable across appends,
// follow files that grow and block, live files that end and grow, seek,
// writes refused) run against any Target. The cursorfs tests run it
// against package cursorfs directly; the end-to-end tests run it through a
// real mount, so the two can never drift apart.
package cursorfstest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// heldState is how long a state the files showed may still be shown
// after an append (engine.HoldFor: a stat and the open after it agree).
const heldState = 100 * time.Millisecond

// File is an open file of a Target. Errors carry the errno (errors.Is).
type File interface {
	// ReadAt reads at off (pread); 0 and nil at the end of file.
	ReadAt(p []byte, off int64) (int, error)
	// Read reads at the file's position (read), for the seek stream.
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	// Size returns the handle's size (fstat).
	Size() (int64, error)
	Close() error
}

// Target is the directory of sandbox Box as a filesystem shows it.
type Target interface {
	// List returns the names the directory lists.
	List() ([]string, error)
	// Size returns the size stat by name shows to a process that does not
	// have the file open.
	Size(name string) (int64, error)
	// Open opens name with open(2) flags.
	Open(name string, flags int) (File, error)
}

// Box is the name of the sandbox the checks read.
const Box = "box"

// Env is a Target over a home whose sandbox Box is written by W. With
// Session, the Target is the directory of session SessionID of Box
// (sessions/1/) instead of Box's own.
type Env struct {
	Target
	W       *msbwriter.Sandbox
	Session bool
}

// NewHome makes a home in a new temporary directory with sandbox Box
// holding lines stdout lines of session SessionID, each fourth one
// followed by a line of session OtherSession, and returns it with its
// writer.
func NewHome(t testing.TB, lines int) (string, *msbwriter.Sandbox) {
	t.Helper()
	home := t.TempDir()
	w, err := msbwriter.Create(home, Box, msbwriter.Options{RotateAt: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	for i := range lines {
		appendLine(t, w, SessionID, fmt.Sprintf("line %05d", i))
		if i%4 == 3 {
			appendLine(t, w, OtherSession, fmt.Sprintf("other %05d", i))
		}
	}
	return home, w
}

// appendLine appends one stdout chunk of session id holding text and a
// newline.
func appendLine(t testing.TB, w *msbwriter.Sandbox, id uint64, text string) {
	t.Helper()
	if err := w.Exec(msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: []byte(text + "\n"), ID: id, HasID: true}); err != nil {
		t.Fatal(err)
	}
}

// appendLine appends one stdout line of session SessionID. In a session's
// directory a line of OtherSession comes first, which must not show.
func (e Env) appendLine(t testing.TB, text string) {
	t.Helper()
	if e.Session {
		appendLine(t, e.W, OtherSession, "not "+text)
	}
	appendLine(t, e.W, SessionID, text)
}

// Check is one row of the table.
type Check struct {
	Name string
	Run  func(t *testing.T, e Env)
}

// Run runs every check of the table against e (SessionChecks for a
// session's directory), in order, as subtests.
func Run(t *testing.T, e Env) {
	checks := Checks
	if e.Session {
		checks = SessionChecks
	}
	for _, c := range checks {
		t.Run(c.Name, func(t *testing.T) { c.Run(t, e) })
	}
}

// Checks is the table.
var Checks = []Check{
	{"names resolve", checkNamesResolve},
	{"listing", checkListing},
	{"snapshot stat size is the bytes read", checkSnapshotSize},
	{"snapshot stable across appends", checkSnapshotStable},
	{"follow grows and blocks", checkFollow},
	{"live ends and grows", checkLive},
	{"seek positions", checkSeek},
	{"writes refused", checkWritesRefused},
}

func checkNamesResolve(t *testing.T, e Env) {
	l := e.layout()
	for _, name := range append(l.snapshots(), l.byName...) {
		if _, err := e.Size(name); err != nil {
			t.Errorf("stat %s: %v", name, err)
		}
	}
	for _, name := range l.absent {
		if _, err := e.Size(name); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("stat %s: %v, want ENOENT", name, err)
		}
	}
}

func checkListing(t *testing.T, e Env) {
	names, err := e.List()
	if err != nil {
		t.Fatal(err)
	}
	l := e.layout()
	for _, want := range l.snapshots() {
		if !slices.Contains(names, want) {
			t.Errorf("%s not listed: %q", want, names)
		}
	}
	for _, hidden := range l.byName {
		if slices.Contains(names, hidden) {
			t.Errorf("%s listed: %q", hidden, names)
		}
	}
}

func checkSnapshotSize(t *testing.T, e Env) {
	for _, name := range e.layout().snapshots() {
		size, err := e.Size(name)
		if err != nil {
			t.Fatal(err)
		}
		f := open(t, e, name, syscall.O_RDONLY)
		data := readAll(t, f, 0)
		if int64(len(data)) != size {
			t.Errorf("%s: stat says %d bytes, read %d", name, size, len(data))
		}
		if fsize := fstat(t, f); fsize != size {
			t.Errorf("%s: fstat says %d bytes, stat %d", name, fsize, size)
		}
	}
}

func checkSnapshotStable(t *testing.T, e Env) {
	before, err := e.Size("stdout")
	if err != nil {
		t.Fatal(err)
	}
	f := open(t, e, "stdout", syscall.O_RDONLY)
	first := readAll(t, f, 0)
	e.appendLine(t, "after the snapshot")
	waitFor(t, "stat by name to show the append", func() bool {
		size, err := e.Size("stdout")
		return err == nil && size > before
	})
	if again := readAll(t, f, 0); !bytes.Equal(again, first) {
		t.Errorf("snapshot changed: %d bytes, then %d", len(first), len(again))
	}
	if size := fstat(t, f); size != int64(len(first)) {
		t.Errorf("fstat of the snapshot: %d, want %d", size, len(first))
	}
	g := open(t, e, "stdout", syscall.O_RDONLY)
	if now := readAll(t, g, 0); !bytes.HasSuffix(now, []byte("after the snapshot\n")) {
		t.Errorf("a new open misses the append: ends %q", tail(now))
	}
}

func checkFollow(t *testing.T, e Env) {
	snap := readAll(t, open(t, e, "stdout", syscall.O_RDONLY), 0)
	nb := open(t, e, "stdout.follow", syscall.O_RDONLY|syscall.O_NONBLOCK)
	got0 := readAll(t, nb, 0)
	if !bytes.HasPrefix(got0, snap) { // a snapshot may be held up to 100 ms old
		t.Fatalf("follow shows %d bytes, not starting with the snapshot's %d", len(got0), len(snap))
	}
	snap = got0
	if _, err := nb.ReadAt(make([]byte, 100), int64(len(snap))); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("non-blocking read at the end: %v, want EAGAIN", err)
	}
	f := open(t, e, "stdout.follow", syscall.O_RDONLY)
	got := make(chan []byte, 1)
	go func() { // blocks at the end until the append
		buf := make([]byte, 100)
		n, err := f.ReadAt(buf, int64(len(snap)))
		if err != nil {
			t.Errorf("blocking read at the end: %v", err)
			n = 0
		}
		got <- buf[:n]
	}()
	e.appendLine(t, "followed")
	select {
	case b := <-got:
		if string(b) != "followed\n" {
			t.Errorf("blocking read at the end: %q, want the appended line", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocking read did not return 10 s after the append")
	}
	if size := fstat(t, f); size != int64(len(snap))+int64(len("followed\n")) {
		t.Errorf("fstat of the follow handle: %d, want %d", size, len(snap)+len("followed\n"))
	}
}

func checkLive(t *testing.T, e Env) {
	snap := readAll(t, open(t, e, "stdout", syscall.O_RDONLY), 0)
	f := open(t, e, "stdout.live", syscall.O_RDONLY)
	// A live read at the end is end of file, at once; a snapshot may be
	// held up to 100 ms old, so the live bytes start with it.
	first := readAll(t, f, 0)
	if !bytes.HasPrefix(first, snap) || !bytes.HasSuffix(first, []byte("\n")) {
		t.Fatalf("live shows %d bytes, not starting with the snapshot's %d", len(first), len(snap))
	}
	if size := fstat(t, f); size != int64(len(first)) {
		t.Errorf("fstat of the live handle: %d, want %d", size, len(first))
	}
	e.appendLine(t, "live append")
	var size int64
	waitFor(t, "fstat of the live handle to grow", func() bool {
		size = fstat(t, f)
		return size > int64(len(first))
	})
	more := readAll(t, f, int64(len(first)))
	if string(more) != "live append\n" || size != int64(len(first)+len(more)) {
		t.Errorf("after the append: fstat %d, read %q from %d", size, more, len(first))
	}
}

func checkSeek(t *testing.T, e Env) {
	s := open(t, e, "seek", syscall.O_RDWR)
	all := readStream(t, s)
	if !bytes.HasPrefix(all, []byte(`{"t":`)) || !bytes.Contains(all, []byte(`"cursor":`)) {
		t.Fatalf("seek from the start: %q", tail(all))
	}
	for _, bad := range []string{"\n", "bogus\n", "2026-13-01T00:00:00Z\n"} {
		if _, err := s.Write([]byte(bad)); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("write %q to seek: %v, want EINVAL", bad, err)
		}
	}
	write(t, s, "start\n")
	if again := readStream(t, s); !bytes.Equal(again, all) {
		t.Errorf("seek after start: %d bytes, want %d", len(again), len(all))
	}
	write(t, s, "end\n")
	if rest := readStream(t, s); len(rest) != 0 {
		t.Errorf("seek after end: %q, want end of file", tail(rest))
	}
	e.appendLine(t, "after end")
	var got []byte
	waitFor(t, "seek to show the append", func() bool {
		got = append(got, readStream(t, s)...)
		return bytes.Contains(got, []byte(`after end`))
	})
}

func checkWritesRefused(t *testing.T, e Env) {
	for _, name := range []string{"merged", "stdout.follow", "stdout.live", e.layout().listed[1]} {
		for _, flags := range []int{syscall.O_WRONLY, syscall.O_RDWR, syscall.O_WRONLY | syscall.O_TRUNC, syscall.O_RDONLY | syscall.O_TRUNC} {
			f, err := e.Open(name, flags)
			if err == nil {
				f.Close()
			}
			if !errors.Is(err, syscall.EROFS) && !errors.Is(err, syscall.EACCES) {
				t.Errorf("open %s with %#x: %v, want EROFS", name, flags, err)
			}
		}
		f := open(t, e, name, syscall.O_RDONLY)
		if _, err := f.Write([]byte("x\n")); !errors.Is(err, syscall.EBADF) {
			t.Errorf("write to %s opened read-only: %v, want EBADF", name, err)
		}
	}
}

// open opens name, failing the test on error, and closes it at its end.
func open(t *testing.T, e Env, name string, flags int) File {
	t.Helper()
	f, err := e.Open(name, flags)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// readAll reads f from off to the end of file, in odd-sized pieces.
func readAll(t *testing.T, f File, off int64) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 777)
	for {
		n, err := f.ReadAt(buf, off+int64(len(out)))
		if errors.Is(err, syscall.EAGAIN) {
			return out // a follow handle's end
		}
		if err != nil {
			t.Fatalf("read at %d: %v", off+int64(len(out)), err)
		}
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

// readStream reads the seek stream until a read returns 0.
func readStream(t *testing.T, f File) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 1000)
	for {
		n, err := f.Read(buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

func write(t *testing.T, f File, line string) {
	t.Helper()
	if n, err := f.Write([]byte(line)); err != nil || n != len(line) {
		t.Fatalf("write %q: %d, %v", line, n, err)
	}
}

func fstat(t *testing.T, f File) int64 {
	t.Helper()
	size, err := f.Size()
	if err != nil {
		t.Fatalf("fstat: %v", err)
	}
	return size
}

// waitFor polls cond every 10 ms until it holds, failing after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 5 s waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tail returns the last 200 bytes of b, for messages.
func tail(b []byte) []byte { return b[max(0, len(b)-200):] }
