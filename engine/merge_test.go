package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
)

// TestViewsContent pins every view of a small sandbox.
func TestViewsContent(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(
		jl(0, "system", "sandbox started"),
		jlID(1, "stdout", "hello\n", 1),
		jlID(2, "stderr", "oops\n", 1),
		jlID(4, "output", "pty> ", 2),
		jlID(5, "stdout", "bye\n", 1),
	)
	d.runtime(rl(3, "runtime: vm ready"))
	d.kernel(rl(2, "kernel: eth0 up"))
	sb := d.open()
	want := map[string]string{
		"stdout": "hello\nbye\n",
		"stderr": "oops\n",
		"output": "pty> ",
		"merged": tsAt(0) + " system sandbox started\n" +
			tsAt(1) + " stdout hello\n" +
			tsAt(2) + " stderr oops\n" +
			tsAt(2) + " system kernel: eth0 up\n" +
			tsAt(3) + " system runtime: vm ready\n" +
			tsAt(4) + " output pty> \n" +
			tsAt(5) + " stdout bye\n",
		"system": tsAt(0) + " system sandbox started\n" +
			tsAt(2) + " system kernel: eth0 up\n" +
			tsAt(3) + " system runtime: vm ready\n",
	}
	for _, nv := range allViews {
		w, ok := want[nv.name]
		if !ok {
			continue
		}
		if got := string(snap(t, sb, nv.v)); got != w {
			t.Errorf("%s:\n%q\nwant:\n%q", nv.name, got, w)
		}
	}
	js := parseJSONL(t, snap(t, sb, ViewMergedJSON))
	var ids []string
	for _, j := range js {
		if j.ID != nil {
			ids = append(ids, j.S)
		}
	}
	if len(js) != 7 || strings.Join(ids, ",") != "stdout,stderr,output,stdout" {
		t.Errorf("merged.jsonl: %d entries, ids on %v", len(js), ids)
	}
}

// TestMergeIsStableNotSort: the merge takes the smallest head of each
// origin; an origin's own sequence is never reordered, even when its
// timestamps go backwards.
func TestMergeIsStableNotSort(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(10, "stdout", "e10\n"), jl(5, "stdout", "e5\n"), jl(20, "stdout", "e20\n"))
	d.runtime(rl(7, "r7"), rl(3, "r3"), rl(15, "r15"))
	sb := d.open()
	got := bodies(parseJSONL(t, snap(t, sb, ViewMergedJSON)))
	// heads e10/r7 → r7; e10/r3 → r3; e10/r15 → e10; e5/r15 → e5; e20/r15 → r15; e20.
	want := []string{"r7\n", "r3\n", "e10\n", "e5\n", "r15\n", "e20\n"}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("merged %q, want %q", got, want)
	}
	if got := string(snap(t, sb, ViewStdout)); got != "e10\ne5\ne20\n" {
		t.Errorf("stdout %q: an origin's order must be kept", got)
	}
}

// TestSystemViewMergesItsOwnOrigins: the system view merges the system
// entries of exec.log with the text logs (filtering first, then merging),
// which differs from filtering the merged view when exec.log is not sorted.
func TestSystemViewMergesItsOwnOrigins(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(10, "stdout", "out10\n"), jl(5, "system", "sys5"))
	d.runtime(rl(7, "r7"))
	sb := d.open()
	if got := bodies(parseJSONL(t, snap(t, sb, ViewMergedJSON))); strings.Join(got, "|") != "r7\n|out10\n|sys5" {
		t.Errorf("merged: %q", got)
	}
	if got := string(snap(t, sb, ViewSystem)); got != tsAt(5)+" system sys5\n"+tsAt(7)+" system r7\n" {
		t.Errorf("system: %q", got)
	}
}

// TestViewStat checks sizes and modification times: a view's mtime is
// the newest mtime of the files it reads.
func TestViewStat(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "x\n"))
	d.rotate()
	d.exec(jl(1, "stderr", "y\n"))
	d.runtime(rl(2, "r"))
	d.kernel(rl(3, "k"))
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	set := func(file string, tm time.Time) {
		if err := os.Chtimes(d.path(file), tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	set(chain.ChainName(1), t1.Add(3*time.Second))
	set(ExecLogName, t1.Add(time.Second))
	set(RuntimeLogName, t1.Add(5*time.Second))
	set(KernelLogName, t1.Add(2*time.Second))
	sb := d.open()
	for _, tc := range []struct {
		v    View
		want time.Time
	}{
		{ViewStdout, t1.Add(3 * time.Second)},
		{ViewStderr, t1.Add(3 * time.Second)},
		{ViewMerged, t1.Add(5 * time.Second)},
		{ViewSystem, t1.Add(5 * time.Second)},
	} {
		st, err := sb.Stat(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if !st.ModTime.Equal(tc.want) {
			t.Errorf("Stat(%v).ModTime = %v, want %v", tc.v, st.ModTime, tc.want)
		}
		s, _ := sb.OpenSnapshot(tc.v)
		if !s.ModTime().Equal(tc.want) || s.Size() != st.Size {
			t.Errorf("snapshot of %v: %v %d, Stat %v %d", tc.v, s.ModTime(), s.Size(), st.ModTime, st.Size)
		}
		s.Close()
	}
	if mt, err := sb.ModTime(); err != nil || !mt.Equal(t1.Add(5*time.Second)) {
		t.Errorf("ModTime = %v, %v", mt, err)
	}
}

// TestSnapshotFixedAtOpen: a snapshot keeps its size and bytes while the
// files grow; a new open (after the hold interval) shows what is new; a
// stat and an open within the hold interval agree.
func TestSnapshotFixedAtOpen(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "one\n"))
	sb := d.open()
	opened := time.Now()
	s, err := sb.OpenSnapshot(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d.exec(jl(1, "stdout", "two\n"))
	// Within HoldFor, Stat and open show the state already shown.
	if st, _ := sb.Stat(ViewStdout); st.Size != 4 && time.Since(opened) < HoldFor/2 {
		t.Errorf("Stat within the hold interval: %d, want 4", st.Size)
	}
	if got := readAllAt(t, s, s.Size(), 2); string(got) != "one\n" || s.Size() != 4 {
		t.Errorf("snapshot: %q (size %d)", got, s.Size())
	}
	// The hold interval passes: Stat shows the growth, within a deadline.
	deadline := time.Now().Add(HoldFor + 5*time.Second)
	for st, _ := sb.Stat(ViewStdout); st.Size != 8; st, _ = sb.Stat(ViewStdout) {
		if time.Now().After(deadline) {
			t.Fatalf("Stat after the hold interval: %d, want 8", st.Size)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := string(snap(t, sb, ViewStdout)); got != "one\ntwo\n" {
		t.Errorf("new snapshot: %q", got)
	}
	if got := readAllAt(t, s, s.Size(), 3); string(got) != "one\n" {
		t.Errorf("old snapshot: %q", got)
	}
}

// TestEmptySandbox: a sandbox with an empty logs directory, or with empty
// files, has empty views and a start cursor.
func TestEmptySandbox(t *testing.T) {
	d := newSandboxDir(t)
	sb := d.open()
	for _, nv := range allViews {
		if b := snap(t, sb, nv.v); len(b) != 0 {
			t.Errorf("%s: %q", nv.name, b)
		}
	}
	c, err := sb.EndCursor()
	if err != nil || c != (Cursor{}) {
		t.Errorf("EndCursor = %v, %v", c, err)
	}
	d.exec()
	d.runtime()
	expireHold(sb)
	if b := snap(t, sb, ViewMerged); len(b) != 0 {
		t.Errorf("empty files: %q", b)
	}
	fl := openFollower(t, sb, ViewMerged)
	d.exec(jl(0, "stdout", "first\n"))
	if got := string(fl.waitAdvance()); got != tsAt(0)+" stdout first\n" {
		t.Errorf("follow: %q", got)
	}
}

// TestHomeList covers OpenHome, List and Sandbox.
func TestHomeList(t *testing.T) {
	home := newHomeDir(t)
	h := openTestHome(t, home)
	if names, err := h.List(); err != nil || len(names) != 0 {
		t.Fatalf("List without sandboxes dir = %q, %v", names, err)
	}
	mkSandbox(t, home, "b")
	mkSandbox(t, home, "a")
	mkSandbox(t, home, "with space é")
	if err := os.MkdirAll(filepath.Join(home, "sandboxes", "nologs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "sandboxes", "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(home, "sandboxes", "a"), filepath.Join(home, "sandboxes", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "elsewhere", "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "sandboxes", "loglink"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(home, "elsewhere", "logs"), filepath.Join(home, "sandboxes", "loglink", "logs")); err != nil {
		t.Fatal(err)
	}
	names, err := h.List()
	if err != nil || strings.Join(names, ",") != "a,b,with space é" {
		t.Errorf("List = %q, %v", names, err)
	}
	for _, bad := range []string{"nologs", "file", "link", "loglink", "missing", "", ".", "..", "a/../b"} {
		if _, err := h.Sandbox(bad); !errors.Is(err, ErrNoSandbox) {
			t.Errorf("Sandbox(%q) = %v, want ErrNoSandbox", bad, err)
		}
	}
	s1, err := h.Sandbox("a")
	if err != nil {
		t.Fatal(err)
	}
	if s2, _ := h.Sandbox("a"); s1 != s2 {
		t.Error("Sandbox returns a new value for the same name")
	}
	if s1.Name() != "a" || s1.LogsDir() != filepath.Join(home, "sandboxes", "a", "logs") {
		t.Errorf("Name %q LogsDir %q", s1.Name(), s1.LogsDir())
	}
	// A sandbox appears in the list when its logs/ directory is created.
	ch := h.ListChanged()
	mkSandbox(t, home, "c")
	if !waitChanged(ch, 5*time.Second) {
		t.Error("ListChanged not signalled")
	}
	if names, _ := h.List(); len(names) != 4 {
		t.Errorf("List = %q", names)
	}
}

// TestSymlinkedLogNotFollowed: a log file that is a symbolic link is never
// followed: what it points to never shows.
func TestSymlinkedLogNotFollowed(t *testing.T) {
	d := newSandboxDir(t)
	secret := filepath.Join(d.home, "secret")
	if err := os.WriteFile(secret, []byte(rl(0, "SECRET")+"\n"+jl(0, "stdout", "SECRET\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	d.exec(jl(1, "stdout", "visible\n"))
	if err := os.Symlink(secret, d.path(RuntimeLogName)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, d.path(chain.ChainName(1))); err != nil {
		t.Fatal(err)
	}
	sb := d.open()
	for _, nv := range allViews {
		s, err := sb.OpenSnapshot(nv.v)
		if err != nil {
			continue // refusing the sandbox is acceptable
		}
		b := readAllAt(t, s, s.Size(), 4096)
		s.Close()
		if strings.Contains(string(b), "SECRET") {
			t.Errorf("%s shows the target of a symbolic link: %q", nv.name, b)
		}
	}
	if r := sb.NewReader(ViewMerged, State{}); r != nil {
		buf := make([]byte, 4096)
		n, _ := r.Read(buf)
		if strings.Contains(string(buf[:n]), "SECRET") {
			t.Errorf("reader shows the target of a symbolic link")
		}
		r.Close()
	}
}

// TestDirectoryNamedLikeALog: a directory where a log file is expected is
// not a log.
func TestDirectoryNamedLikeALog(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "x\n"))
	if err := os.Mkdir(d.path(KernelLogName), 0o755); err != nil {
		t.Fatal(err)
	}
	sb := d.open()
	if s, err := sb.OpenSnapshot(ViewStdout); err == nil {
		if b := readAllAt(t, s, s.Size(), 100); string(b) != "x\n" {
			t.Errorf("stdout = %q", b)
		}
		s.Close()
	}
}

// TestHoldStartsAfterThePass: the state a stat shows is held for HoldFor
// from when the stat answers, so an open right after it shows the same
// state even when the stat's index pass took longer than HoldFor.
func TestHoldStartsAfterThePass(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "one\n"))
	clock := newFakeClock()
	sb := openClocked(t, d, clock)
	slow := func() { clock.advance(HoldFor + 20*time.Millisecond) } // a slow pass
	sb.home.afterIndex = slow
	st, err := sb.Stat(ViewStdout)
	sb.home.afterIndex = nil
	if err != nil {
		t.Fatal(err)
	}
	d.exec(jl(1, "stdout", "two\n"))
	s, err := sb.OpenSnapshot(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Size() != st.Size {
		t.Fatalf("open right after a slow stat shows %d bytes, the stat %d", s.Size(), st.Size)
	}
}

// TestOpenKeepsTheStatsState: an open right after a stat shows the stat's
// state even when the stat came at the very end of that state's hold (tar:
// lstat, open, read, fstat); an open HoldFor after the last stat shows
// what is new.
func TestOpenKeepsTheStatsState(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "one\n"))
	clock := newFakeClock()
	sb := openClocked(t, d, clock)
	if _, err := sb.Stat(ViewStdout); err != nil {
		t.Fatal(err)
	}
	clock.advance(HoldFor - 20*time.Millisecond) // its hold nearly over
	st, err := sb.Stat(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	d.exec(jl(1, "stdout", "two\n"))
	clock.advance(40 * time.Millisecond) // the state's hold is over, not the stat's
	s, err := sb.OpenSnapshot(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s.Size() != st.Size {
		t.Fatalf("open 40 ms after a stat shows %d bytes, the stat %d", s.Size(), st.Size)
	}
	clock.advance(HoldFor + 20*time.Millisecond)
	if s, err = sb.OpenSnapshot(ViewStdout); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s.Size() == st.Size {
		t.Fatalf("open %v after the last stat still shows the old %d bytes", HoldFor+20*time.Millisecond, st.Size)
	}
}
