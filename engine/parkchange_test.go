package engine

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"
)

// checkShowsFresh checks that every view of sb shows, by stat and by
// open, what a home that never saw the sandbox shows.
func checkShowsFresh(t *testing.T, d *tdir, sb *Sandbox, what string) {
	t.Helper()
	for _, v := range parkViews {
		got, err := sb.Stat(v)
		if err != nil {
			t.Fatalf("%s: Stat(%v): %v", what, v, err)
		}
		want, wantBytes := fresh(t, d, v)
		if got != want {
			t.Errorf("%s: Stat(%v) = %+v, want %+v", what, v, got, want)
		}
		if b := snap(t, sb, v); !bytes.Equal(b, wantBytes) {
			t.Errorf("%s: %v reads %q, want %q", what, v, b, wantBytes)
		}
		letGo(t, sb)
	}
}

// TestParkedSeesAppend: an append after the summary was parked is shown
// by the next stat.
func TestParkedSeesAppend(t *testing.T) {
	d, sb := parkedSandbox(t)
	d.exec(jl(2000, "stdout", "appended\n"))
	checkShowsFresh(t, d, sb, "after an append")
}

// TestParkedSeesRotation: a rotation between two stats is shown by the
// second.
func TestParkedSeesRotation(t *testing.T) {
	d, sb := parkedSandbox(t)
	d.rotate()
	d.exec(jl(2000, "stdout", "after the rotation\n"))
	checkShowsFresh(t, d, sb, "after a rotation")
	d.rotate() // and one that leaves exec.log empty
	checkShowsFresh(t, d, sb, "after a second rotation")
}

// TestParkedSeesRewriteSameSizeAndMtime: a file rewritten in place to the
// same size, its mtime put back, is shown with its new bytes: its change
// time moved.
func TestParkedSeesRewriteSameSizeAndMtime(t *testing.T) {
	for _, file := range []string{ExecLogName, RuntimeLogName, KernelLogName} {
		t.Run(file, func(t *testing.T) {
			d, sb := parkedSandbox(t)
			old, err := os.ReadFile(d.path(file))
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(d.path(file))
			if err != nil {
				t.Fatal(err)
			}
			// Same size, other views: stdout becomes stderr, a text
			// line loses its timestamp.
			rewritten := bytes.Replace(old, []byte(`"stdout"`), []byte(`"stderr"`), 1)
			if file != ExecLogName {
				rewritten = append([]byte("X"), old[1:]...)
			}
			d.writeFile(file, string(rewritten))
			if err := os.Chtimes(d.path(file), fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
			if fi2, _ := os.Stat(d.path(file)); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
				t.Fatalf("the rewrite changed size or mtime: %d %v, was %d %v", fi2.Size(), fi2.ModTime(), fi.Size(), fi.ModTime())
			}
			checkShowsFresh(t, d, sb, "after a rewrite of "+file)
		})
	}
}

// TestParkedSkipsRacyFiles: a sandbox whose files changed less than the
// racy margin before they were read is not parked: a write in the same
// tick of the change-time clock could leave its stamp as it was. With the
// real margin, files just written are racy.
func TestParkedSkipsRacyFiles(t *testing.T) {
	d := newSandboxDir(t)
	writeParkSandbox(d)
	h := openParkHome(t, d.home, RacyMargin, 0)
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Stat(ViewMerged); err != nil {
		t.Fatal(err)
	}
	letGo(t, sb)
	if n, _ := h.parks.stats(); n != 0 {
		t.Fatalf("files written just now were parked (%d summaries)", n)
	}
	// The same rewrite as above, at once: it is seen.
	d.writeFile(ExecLogName, jlID(1000, "stdout", "HELLO from exec\n", 7)+jl(1010, "stderr", "an error\n")+jlID(1020, "stdout", "more\n", 7))
	checkShowsFresh(t, d, sb, "after a rewrite in the racy window")
}

// TestParkedRemovedAndMadeAgain: a sandbox removed and made again under
// the same name is not answered from the old one's summary.
func TestParkedRemovedAndMadeAgain(t *testing.T) {
	d, sb := parkedSandbox(t)
	h := sb.home
	if err := os.RemoveAll(d.path("..")); err != nil {
		t.Fatal(err)
	}
	d2 := mkSandbox(t, d.home, d.name)
	writeParkSandbox(d2)
	d2.exec(jl(3000, "stdout", "the new sandbox\n"))
	time.Sleep(2 * testMargin)
	sb2, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	checkShowsFresh(t, d2, sb2, "the sandbox made again")
}

// TestLiveSeesRewriteSameSizeAndMtime: a sandbox that holds its state
// (not parked) shows a file rewritten in place to the same size with its
// mtime put back, once the hold is over: the last bytes (the witness) are
// the same, only the change time tells.
func TestLiveSeesRewriteSameSizeAndMtime(t *testing.T) {
	d := newSandboxDir(t)
	writeParkSandbox(d)
	sb := d.open()
	before := map[View]ViewStat{}
	for _, v := range parkViews {
		st, err := sb.Stat(v)
		if err != nil {
			t.Fatal(err)
		}
		before[v] = st
	}
	time.Sleep(10 * time.Millisecond) // past the change-time clock's tick
	old, err := os.ReadFile(d.path(ExecLogName))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(d.path(ExecLogName))
	if err != nil {
		t.Fatal(err)
	}
	d.writeFile(ExecLogName, string(bytes.Replace(old, []byte(`"stdout"`), []byte(`"stderr"`), 1)))
	if err := os.Chtimes(d.path(ExecLogName), fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	for _, v := range parkViews {
		expireHold(sb)
		got, err := sb.Stat(v)
		if err != nil {
			t.Fatal(err)
		}
		want, wantBytes := fresh(t, d, v)
		if got != want {
			t.Errorf("Stat(%v) = %+v, want %+v", v, got, want)
		}
		if !got.ModTime.Equal(before[v].ModTime) || !got.ChangeTime.After(before[v].ChangeTime) {
			t.Errorf("Stat(%v): mtime %v -> %v, change time %v -> %v; want the mtime kept, the change time later",
				v, before[v].ModTime, got.ModTime, before[v].ChangeTime, got.ChangeTime)
		}
		if b := snap(t, sb, v); !bytes.Equal(b, wantBytes) {
			t.Errorf("%v reads %q, want %q", v, b, wantBytes)
		}
	}
}

// TestRotationResumesTheIndex: a rotation renames exec.log, which moves
// its ctime alone; the index resumes from its checkpoints instead of
// taking the renamed file for a rewritten one and parsing it all again.
func TestRotationResumesTheIndex(t *testing.T) {
	d := newSandboxDir(t)
	var lines []string
	for i := range 3000 {
		lines = append(lines, jl(int64(1000+i), "stdout", fmt.Sprintf("line %d of the first file\n", i)))
	}
	d.exec(lines...)
	sb := d.open()
	if _, err := sb.Stat(ViewMerged); err != nil {
		t.Fatal(err)
	}
	first := func() (int, uint64) {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		x := sb.indexes[MaskAll]
		return len(x.Cps), x.Cps[1].Serial
	}
	n, serial := first()
	if n < 3 {
		t.Fatalf("the index has %d checkpoints; want a few", n)
	}
	time.Sleep(10 * time.Millisecond) // the rename's ctime is not the write's
	d.rotate()
	d.exec(jl(9000, "stdout", "after the rotation\n"))
	expireHold(sb)
	if _, err := sb.Stat(ViewMerged); err != nil {
		t.Fatal(err)
	}
	if n2, serial2 := first(); serial2 != serial || n2 < n {
		t.Errorf("after a rotation the index was rebuilt: %d checkpoints, the first after the start serial %d (was %d, %d)", n2, serial2, n, serial)
	}
	want, _ := fresh(t, d, ViewMerged)
	if got, err := sb.Stat(ViewMerged); err != nil || got != want {
		t.Errorf("Stat after the rotation = %+v, %v; want %+v", got, err, want)
	}
}
