package test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestCatAndCpEqualEngine reads every snapshot file with cat and cp and
// compares it with the engine's rendering of the same view; stat's size is
// the number of bytes read.
func TestCatAndCpEqualEngine(t *testing.T) {
	home := corpusHome(t, "box", 2<<20)
	m := mount(t, home)
	out := t.TempDir()
	for name, v := range snapshotFiles {
		want := render(t, home, "box", v)
		p := m.path("box", name)
		if got := sh(t, 30*time.Second, "cat "+q(p)); got != string(want) {
			t.Errorf("cat %s: %d bytes, engine %d", name, len(got), len(want))
		}
		dst := filepath.Join(out, name)
		sh(t, 30*time.Second, "cp "+q(p)+" "+q(dst))
		if got := mustRead(t, dst); !bytes.Equal(got, want) {
			t.Errorf("cp %s: %d bytes, engine %d", name, len(got), len(want))
		}
		size := strings.TrimSpace(sh(t, 5*time.Second, "stat -c %s "+q(p)))
		if size != strconv.Itoa(len(want)) {
			t.Errorf("stat %s: size %s, read %d bytes", name, size, len(want))
		}
	}
}

// TestToolsAgreeWithRendering checks wc -c, grep -c, head, tail -n 3, tar
// and rsync against the engine's rendering of a quiet sandbox.
func TestToolsAgreeWithRendering(t *testing.T) {
	home := corpusHome(t, "box", 1<<20)
	m := mount(t, home)
	merged := render(t, home, "box", engine.ViewMerged)
	p := q(m.path("box", "merged"))
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %.200q, want %.200q", what, got, want)
		}
	}
	check("wc -c", sh(t, 10*time.Second, "wc -c <"+p), fmt.Sprintf("%d\n", len(merged)))
	check("grep -c", sh(t, 10*time.Second, "grep -c ' stderr ' "+p), fmt.Sprintf("%d\n", bytes.Count(merged, []byte(" stderr "))))
	all := lines(merged)
	check("head", sh(t, 10*time.Second, "head "+p), strings.Join(all[:10], "\n")+"\n")
	check("tail -n 3", sh(t, 10*time.Second, "tail -n 3 "+p), strings.Join(all[len(all)-3:], "\n")+"\n")

	out := t.TempDir()
	sh(t, 60*time.Second, fmt.Sprintf("tar -C %s -cf - box | tar -C %s -xf -", q(m.dir), q(filepath.Join(out))))
	sh(t, 60*time.Second, fmt.Sprintf("rsync -a %s/ %s/", q(m.dir), q(filepath.Join(out, "rsync"))))
	for name, v := range snapshotFiles {
		want := render(t, home, "box", v)
		for _, dir := range []string{out, filepath.Join(out, "rsync")} {
			if got := mustRead(t, filepath.Join(dir, "box", name)); !bytes.Equal(got, want) {
				t.Errorf("%s/box/%s: %d bytes, engine %d", dir, name, len(got), len(want))
			}
		}
	}
}

// TestSnapshotFixedAcrossRotation reads a snapshot half-way, lets the
// sandbox append and rotate, then reads the rest and again from 0: the
// bytes are those of the open, and fstat of the handle never changes.
func TestSnapshotFixedAcrossRotation(t *testing.T) {
	home := t.TempDir()
	w, err := msbwriter.Create(home, "box", msbwriter.Options{RotateAt: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeLines(t, w, 0, 400)
	m := mount(t, home)
	for _, name := range []string{"merged", "stdout", "merged.jsonl"} {
		want := render(t, home, "box", snapshotFiles[name])
		waitFor(t, time.Second, "stat to show the last writes", func() bool { // the mount holds a state for 100 ms
			fi, err := os.Stat(m.path("box", name))
			return err == nil && fi.Size() == int64(len(want))
		})
		f, err := os.Open(m.path("box", name))
		if err != nil {
			t.Fatal(err)
		}
		fi0, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		half := make([]byte, len(want)/2)
		if _, err := io.ReadFull(f, half); err != nil {
			t.Fatal(err)
		}
		writeLines(t, w, 400, 2000) // about 200 KiB: several rotations
		if err := w.Rotate(); err != nil {
			t.Fatal(err)
		}
		now := len(render(t, home, "box", snapshotFiles[name]))
		waitFor(t, time.Second, "stat by name (another process) to show the new state", func() bool {
			out, _, err := shErr(time.Second, "stat -c %s "+q(m.path("box", name)))
			return err == nil && strings.TrimSpace(out) == strconv.Itoa(now)
		})
		rest, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		again := make([]byte, len(want)+100)
		n, err := f.ReadAt(again, 0)
		if err != io.EOF {
			t.Fatalf("re-read from 0: %d, %v", n, err)
		}
		fi1, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got := append(half, rest...); !bytes.Equal(got, want) || !bytes.Equal(again[:n], want) {
			t.Errorf("%s: read %d then %d bytes after rotating, want the %d of the open", name, len(got), n, len(want))
		}
		if fi0.Size() != int64(len(want)) || fi1.Size() != fi0.Size() || !fi1.ModTime().Equal(fi0.ModTime()) {
			t.Errorf("%s: fstat size/mtime moved: %d %v -> %d %v (want size %d)", name, fi0.Size(), fi0.ModTime(), fi1.Size(), fi1.ModTime(), len(want))
		}
		w.Rotate() // the next file starts from a fresh exec.log
	}
}

// writeLines appends stdout lines from..to-1.
func writeLines(t *testing.T, w *msbwriter.Sandbox, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		c := msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: fmt.Appendf(nil, "line %06d %s\n", i, strings.Repeat("x", 40)), ID: 1, HasID: true}
		if err := w.Exec(c); err != nil {
			t.Fatal(err)
		}
	}
}

// TestListing: a sandbox directory lists the snapshot files and cursor
// (and boot-error.json once there is one); the follow and live files and
// seek are found by name only, unless --list-all.
func TestListing(t *testing.T) {
	home := corpusHome(t, "box", 64<<10)
	m := mount(t, home)
	ls := func(dir string) []string {
		t.Helper()
		names := lines([]byte(sh(t, 5*time.Second, "ls -A "+q(dir))))
		sort.Strings(names)
		return names
	}
	want := []string{"cursor", "merged", "merged.jsonl", "output", "sessions", "stderr", "stdout", "system"}
	if got := ls(m.path("box")); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("ls: %v, want %v", got, want)
	}
	for _, n := range []string{"merged.follow", "stdout.follow", "stderr.follow", "output.follow", "system.follow", "seek",
		"merged.live", "stdout.live", "stderr.live", "output.live", "system.live"} {
		sh(t, 5*time.Second, "stat "+q(m.path("box", n))+" >/dev/null && ls -l "+q(m.path("box", n))+" >/dev/null")
	}
	w, err := msbwriter.Create(home, "box", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	doc := `{"error":"boot failed","code":3}`
	if err := w.BootError(doc); err != nil {
		t.Fatal(err)
	}
	if got := ls(m.path("box")); len(got) != len(want)+1 || got[0] != "boot-error.json" {
		t.Fatalf("ls with a boot error: %v", got)
	}
	if got := sh(t, 5*time.Second, "cat "+q(m.path("box", "boot-error.json"))); got != doc {
		t.Fatalf("boot-error.json: %q", got)
	}
	all := mount(t, home, "--list-all")
	if got := ls(all.path("box")); len(got) != len(want)+1+11 {
		t.Fatalf("ls with --list-all: %v", got)
	}
	// A session's directory: its snapshots and info; with --list-all
	// also its follow and live files.
	session := []string{"info", "merged", "merged.jsonl", "output", "stderr", "stdout"}
	if got := ls(m.path("box", "sessions", "1")); strings.Join(got, " ") != strings.Join(session, " ") {
		t.Fatalf("ls sessions/1: %v, want %v", got, session)
	}
	if got := ls(all.path("box", "sessions", "1")); len(got) != len(session)+8 || !slices.Contains(got, "output.live") {
		t.Fatalf("ls sessions/1 with --list-all: %v", got)
	}
}
