package test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// The kernel may keep a snapshot's pages and attributes (docs/caching.md):
// these tests fail on a mount that caches without telling one state of a
// file from another.

// seenWithin is how soon a change must show to the next open and stat:
// the spec holds a shown state about 100 ms (an open after a stat up to
// twice that); ten times that leaves room for a loaded machine, and a
// mount that caches stale state for longer fails.
const seenWithin = time.Second

// TestSnapshotStatesInterleaved: two opens of one name at different states,
// the second after rotations dropped the head of the first, read in turn
// at the same offsets, each keep their own bytes and their own size.
func TestSnapshotStatesInterleaved(t *testing.T) {
	home, w := rotatingBox(t, "rot", 4096, 100)
	m := mount(t, home)
	for _, name := range []string{"stdout", "merged"} {
		p := m.path("rot", name)
		f1, a := openRead(t, p)
		from := 100 + 300*len(name) // each round writes new lines
		writeLines(t, w, from, from+300)
		b := waitContent(t, p, func(b []byte) bool { return !bytes.HasPrefix(b, a[:64]) })
		f2, b2 := openRead(t, p)
		if !bytes.Equal(b, b2) || bytes.Equal(a[:64], b[:64]) {
			t.Fatalf("%s: the second open does not show the rotated state", name)
		}
		for round := range 2 {
			for off := 0; off < max(len(a), len(b)); off += 1000 {
				for _, c := range []struct {
					f    *os.File
					want []byte
				}{{f1, a}, {f2, b}} {
					got := make([]byte, 1000)
					n, err := c.f.ReadAt(got, int64(off))
					if err != nil && err != io.EOF {
						t.Fatalf("%s round %d: pread at %d: %v", name, round, off, err)
					}
					if want := c.want[min(off, len(c.want)):min(off+1000, len(c.want))]; !bytes.Equal(got[:n], want) {
						t.Fatalf("%s round %d: pread at %d of the open of %d bytes: %d bytes that are not its own", name, round, off, len(c.want), n)
					}
				}
			}
		}
		for _, c := range []struct {
			f    *os.File
			size int
		}{{f1, len(a)}, {f2, len(b)}} {
			if size := fstatSize(t, c.f); size != int64(c.size) {
				t.Errorf("%s: fstat %d, want the open's %d", name, size, c.size)
			}
		}
		if want := render(t, home, "rot", snapshotFiles[name]); !bytes.Equal(b, want) {
			t.Errorf("%s: the mount shows %d bytes, the engine %d", name, len(b), len(want))
		}
	}
}

// TestFstatFromAnotherProcess: a shell opens stdout twice; after an
// append, `wc -c <&5` (another process, sharing the descriptor) gives the
// size fixed at the open, and after the sandbox directory is moved away
// `cat <&6` still reads the snapshot's bytes.
func TestFstatFromAnotherProcess(t *testing.T) {
	home, w := quietBox(t, 20)
	m := mount(t, home)
	p := m.path("box", "stdout")
	snap := mustRead(t, p)
	cmd := exec.Command("bash", "-c", `exec 5<"$1" 6<"$1"; echo opened; read x; wc -c <&5; read x; cat <&6`, "bash", p)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, 5*time.Second, "the shell to open", func() bool { return strings.HasPrefix(out.String(), "opened\n") })
	mark(t, w, "after the open")
	waitContent(t, p, func(b []byte) bool { return len(b) > len(snap) })
	fmt.Fprintln(stdin)
	want := fmt.Sprintf("opened\n%d\n", len(snap))
	waitFor(t, 5*time.Second, "wc -c", func() bool { return strings.Count(out.String(), "\n") >= 2 })
	if out.String() != want {
		t.Fatalf("wc -c <&5 after an append: %q, want %q (the open's size)", out.String(), want)
	}
	if err := os.Rename(sandboxDir(home, "box"), sandboxDir(home, "moved")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the sandbox to go", func() bool {
		_, err := os.Stat(p)
		return os.IsNotExist(err)
	})
	fmt.Fprintln(stdin)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cat <&6 after the sandbox moved: %v: %s", err, []byte(stderr.String()))
	}
	if got := strings.TrimPrefix(out.String(), want); got != string(snap) {
		t.Errorf("cat <&6 after the sandbox moved: %d bytes, want the snapshot's %d", len(got), len(snap))
	}
}

// TestChangesSeenThroughCache: after a file was read whole (its pages and
// attributes cached), an append, a rotation and a rewrite in place of
// exec.log each show to the next stat and open within seenWithin, and what
// an open shows is what the engine renders.
func TestChangesSeenThroughCache(t *testing.T) {
	home, w := rotatingBox(t, "box", 8192, 40)
	m := mount(t, home)
	exec0 := filepath.Join(sandboxDir(home, "box"), "logs", "exec.log")
	for _, c := range []struct {
		what   string
		change func()
		seen   func([]byte) bool
	}{
		{"append", func() { mark(t, w, "APPENDED") }, func(b []byte) bool { return bytes.Contains(b, []byte("APPENDED")) }},
		{"rotation", func() { writeLines(t, w, 1000, 1100) }, func(b []byte) bool { return bytes.Contains(b, []byte("line 001099")) }},
		{"rewrite in place", func() { rewriteInPlace(t, exec0, "line 001099", "LINE 001099") }, func(b []byte) bool { return bytes.Contains(b, []byte("LINE 001099")) }},
	} {
		for _, name := range []string{"stdout", "merged"} {
			p := m.path("box", name)
			mustRead(t, p)
			mustRead(t, p) // from the page cache, if kept
			statSize(t, p)
		}
		time.Sleep(150 * time.Millisecond) // past the held state, so the change is the next one
		start := time.Now()
		c.change()
		for _, name := range []string{"stdout", "merged"} {
			p := m.path("box", name)
			t.Logf("%s: waiting for %s", c.what, name)
			got := waitContent(t, p, c.seen)
			if took := time.Since(start); took > seenWithin {
				t.Errorf("%s: %s seen by an open after %v, want within %v", c.what, name, took, seenWithin)
			}
			if size := statSize(t, p); size != int64(len(got)) {
				t.Errorf("%s: %s: stat says %d, the open read %d", c.what, name, size, len(got))
			}
			if want := render(t, home, "box", snapshotFiles[name]); !bytes.Equal(got, want) {
				t.Errorf("%s: %s shows %d bytes, the engine %d", c.what, name, len(got), len(want))
			}
		}
	}
}

// TestMmapSnapshot: a shared read-only mapping of a snapshot (Python's
// mmap.ACCESS_READ, rg --mmap) gives what read() gives.
func TestMmapSnapshot(t *testing.T) {
	home := corpusHome(t, "box", 2<<20)
	m := mount(t, home)
	for _, name := range []string{"merged", "stdout", "merged.jsonl"} {
		p := m.path("box", name)
		want := mustRead(t, p)
		out, err := exec.Command("python3", "-c", `import mmap, sys
with open(sys.argv[1], "rb") as f, mmap.mmap(f.fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ) as m:
    sys.stdout.buffer.write(m[:])`, p).CombinedOutput()
		if err != nil || !bytes.Equal(out, want) {
			t.Errorf("%s: python mmap: %v, %d bytes (%q), want read()'s %d", name, err, len(out), tail(out), len(want))
		}
		for _, pattern := range []string{"e", "0"} {
			mapped, err1 := exec.Command("rg", "--mmap", "-c", pattern, p).Output()
			read, err2 := exec.Command("rg", "--no-mmap", "-c", pattern, p).Output()
			if err1 != nil || err2 != nil || !bytes.Equal(mapped, read) {
				t.Errorf("%s: rg --mmap -c %s: %q %v; rg --no-mmap: %q %v", name, pattern, mapped, err1, read, err2)
			}
		}
	}
}

// rotatingBox makes a home with sandbox name, rotated at rotateAt bytes,
// holding lines stdout lines, and returns it with its writer.
func rotatingBox(t *testing.T, name string, rotateAt int64, lines int) (string, *msbwriter.Sandbox) {
	t.Helper()
	home := t.TempDir()
	w, err := msbwriter.Create(home, name, msbwriter.Options{RotateAt: rotateAt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	writeLines(t, w, 0, lines)
	return home, w
}

// openRead opens p, reads it whole, and closes it when the test ends.
func openRead(t *testing.T, p string) (*os.File, []byte) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return f, data
}

// waitContent reads p with cat until its content passes ok, failing after
// 5 s, and returns it.
func waitContent(t *testing.T, p string, ok func([]byte) bool) []byte {
	t.Helper()
	var data []byte
	waitFor(t, 5*time.Second, "the change to show in "+p, func() bool {
		out, err := exec.Command("cat", p).Output()
		data = out
		return err == nil && ok(out)
	})
	return data
}

// statSize runs stat(1) on p, from a process that has nothing open.
func statSize(t *testing.T, p string) int64 {
	t.Helper()
	out, err := exec.Command("stat", "-c", "%s", p).Output()
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func fstatSize(t *testing.T, f *os.File) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Size
}

// rewriteInPlace replaces old by new (of the same length) in the file at
// p, in place: same inode, same size.
func rewriteInPlace(t *testing.T, p, old, new string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte(old))
	if i < 0 || len(old) != len(new) {
		t.Fatalf("%s: %q not found to rewrite", p, old)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(new), int64(i)); err != nil {
		t.Fatal(err)
	}
}

// tail returns the last 200 bytes of b, for messages.
func tail(b []byte) []byte { return b[max(0, len(b)-200):] }
