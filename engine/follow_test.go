package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// waitAdvance waits (through the watcher) until the follow grows, up to 5 s.
func (fl *follower) waitAdvance() []byte {
	fl.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ch := fl.f.Changed()
		grew, err := fl.f.Advance()
		if err != nil {
			fl.t.Fatalf("Advance: %v", err)
		}
		if grew {
			return fl.read()
		}
		waitChanged(ch, 500*time.Millisecond)
	}
	fl.t.Fatal("the follow did not grow within 5 s")
	return nil
}

// TestFollowPicksUpAppend: following yields the view as of the open, then
// an entry appended while following, woken by the watcher.
func TestFollowPicksUpAppend(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "a\n"), jl(1, "stderr", "b\n"))
	sb := d.open()
	merged := openFollower(t, sb, ViewMerged)
	stdout := openFollower(t, sb, ViewStdout)
	if got := string(merged.read()); got != tsAt(0)+" stdout a\n"+tsAt(1)+" stderr b\n" {
		t.Fatalf("at open: %q", got)
	}
	if got := string(stdout.next()); got != "a\n" {
		t.Fatalf("stdout at open: %q", got)
	}
	if grew, err := merged.f.Advance(); grew || err != nil {
		t.Fatalf("Advance with nothing new = %v, %v", grew, err)
	}
	ch := sb.Changed()
	d.exec(jl(2, "stdout", "c\n"))
	if !waitChanged(ch, 5*time.Second) {
		t.Fatal("the watcher did not signal the append")
	}
	if got := string(merged.waitAdvance()); got != tsAt(2)+" stdout c\n" {
		t.Errorf("merged after the append: %q", got)
	}
	if got := string(stdout.waitAdvance()); got != "c\n" {
		t.Errorf("stdout after the append: %q", got)
	}
	if fi, err := os.Stat(d.path(ExecLogName)); err != nil || !merged.f.ModTime().Equal(fi.ModTime()) {
		t.Errorf("Follow.ModTime %v, exec.log's mtime %v", merged.f.ModTime(), fi.ModTime())
	}
	// An append of another source grows merged but not stdout.
	d.exec(jl(3, "stderr", "d\n"))
	merged.waitAdvance()
	if grew, err := stdout.f.Advance(); grew || err != nil {
		t.Errorf("stdout grew on a stderr entry: %v, %v", grew, err)
	}
}

// TestFollowRewriteWholeFile: exec.log rewritten whole (same inode,
// truncate and write) with the old lines plus one: only the new line
// appears, for a follower and for a Reader.
func TestFollowRewriteWholeFile(t *testing.T) {
	d := newSandboxDir(t)
	old := jl(0, "stdout", "one\n") + jl(1, "stdout", "two\n")
	d.writeFile(ExecLogName, old)
	ino, _ := statx(t, d.path(ExecLogName))
	sb := d.open()
	fl := openFollower(t, sb, ViewStdout)
	fl.read()
	r := sb.NewReader(ViewStdout, State{})
	defer r.Close()
	drainReader(t, r, 1000)

	d.writeFile(ExecLogName, old+jl(2, "stdout", "three\n"))
	if ino2, _ := statx(t, d.path(ExecLogName)); ino2 != ino {
		t.Fatal("os.WriteFile replaced the file")
	}
	if got := string(fl.waitAdvance()); got != "three\n" {
		t.Errorf("follow: %q", got)
	}
	if got := string(drainReader(t, r, 1000)); got != "three\n" {
		t.Errorf("reader: %q", got)
	}
}

// TestExecShrinkKeepsOffset: exec.log shrinking in place does not move a
// reader back: it keeps its offset and goes on once the file has grown
// past it.
func TestExecShrinkKeepsOffset(t *testing.T) {
	d := newSandboxDir(t)
	old := jl(0, "stdout", "one\n") + jl(1, "stdout", "two\n")
	d.exec(old)
	sb := d.open()
	fl := openFollower(t, sb, ViewStdout)
	fl.read()
	end, _ := sb.EndState()

	if err := os.Truncate(d.path(ExecLogName), 0); err != nil {
		t.Fatal(err)
	}
	if grew, err := fl.f.Advance(); grew || err != nil {
		t.Fatalf("Advance after the shrink = %v, %v", grew, err)
	}
	d.exec(jl(2, "stdout", "short\n")) // still below the offset
	if grew, err := fl.f.Advance(); grew || err != nil {
		t.Fatalf("Advance below the offset = %v, %v", grew, err)
	}
	if got := readerAll(t, sb, ViewStdout, end); len(got) != 0 {
		t.Fatalf("reader below the offset: %q", got)
	}
	d.writeFile(ExecLogName, old+jl(3, "stdout", "three\n"))
	if got := string(fl.waitAdvance()); got != "three\n" {
		t.Errorf("follow: %q", got)
	}
	if got := string(readerAll(t, sb, ViewStdout, end)); got != "three\n" {
		t.Errorf("reader: %q", got)
	}
}

// TestFollowBytesNeverChange: whatever is appended (in order or not), the
// stream's bytes once shown stay the same, and entries arrive in arrival
// order.
func TestFollowBytesNeverChange(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(100, "stdout", "open\n"))
	sb := d.open()
	fl := openFollower(t, sb, ViewMerged)
	shown := fl.read()
	steps := []func(){
		func() { d.exec(jl(200, "stdout", "later\n")) },
		func() { d.exec(jl(300, "stdout", "later still\n")) },
		func() { d.exec(jl(50, "stderr", "earlier than all\n")) },
		func() { d.runtime(rl(10, "runtime, earliest")) },
		func() { d.exec(jl(400, "stdout", "in order again\n")) },
		func() { d.kernel(rl(450, "kernel")); d.exec(jl(500, "stdout", "both\n")) },
		func() { d.rotate(); d.exec(jl(600, "stdout", "after rotation\n")) },
		func() { d.exec(jl(700, "stdout", "x\n")); d.exec(jl(800, "stdout", "y\n")) },
	}
	var order []string
	for i, step := range steps {
		step()
		got := fl.waitAdvance()
		shown = append(shown, got...)
		order = append(order, splitLines(got)...)
		all := readAllAt(t, fl.f, fl.f.Size(), 7)
		compareBytes(t, fmt.Sprintf("after step %d", i), all, shown)
	}
	want := []string{"later", "later still", "earlier than all", "runtime, earliest", "in order again", "kernel", "both", "after rotation", "x", "y"}
	if len(order) != len(want) {
		t.Fatalf("arrived: %s", quoteLines(order))
	}
	for i, w := range want {
		if !strings.HasSuffix(order[i], " "+w) {
			t.Errorf("arrival %d: %q, want … %q", i, order[i], w)
		}
	}
}

// TestFollowRuntimeTruncatedOrReplaced: a truncated or replaced runtime.log
// restarts from its start while following. Before that, appends keep the
// bytes already shown. (Once a file is truncated in place, the bytes shown
// from it are gone from the disk: only the new bytes are checked then.)
func TestFollowRuntimeTruncatedOrReplaced(t *testing.T) {
	d := newSandboxDir(t)
	d.runtime(rl(0, "one"), rl(1, "two"))
	sb := d.open()
	fl := openFollower(t, sb, ViewSystem)
	shown := fl.read()
	check := func(step string, whole bool, want string) {
		t.Helper()
		got := fl.waitAdvance()
		if string(got) != want+"\n" {
			t.Errorf("%s: %q, want %q", step, got, want+"\n")
		}
		shown = append(shown, got...)
		if whole {
			compareBytes(t, step+": the whole stream", readAllAt(t, fl.f, fl.f.Size(), 10), shown)
		}
	}
	d.runtime(rl(2, "three"))
	check("append", true, tsAt(2)+" system three")
	d.runtime(rl(3, "four"))
	check("append", true, tsAt(3)+" system four")

	// Truncated in place, then written again: the new file is longer than
	// the position the follow had at its open, shorter than its end.
	d.writeFile(RuntimeLogName, rl(10, "after truncation, a line long enough to pass the first batch")+"\n")
	check("truncation", false, tsAt(10)+" system after truncation, a line long enough to pass the first batch")

	tmp := d.path("runtime.log.new")
	if err := os.WriteFile(tmp, []byte(rl(20, "replaced")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, d.path(RuntimeLogName)); err != nil {
		t.Fatal(err)
	}
	check("replacement", false, tsAt(20)+" system replaced")
	d.runtime(rl(21, "appended to the new file"))
	check("append to the new file", false, tsAt(21)+" system appended to the new file")
}

// TestFollowRuntimeReplacedKeepsShownBytes: when runtime.log is replaced
// by a new file (the old one stays readable through the open handles),
// every byte shown before stays the same.
func TestFollowRuntimeReplacedKeepsShownBytes(t *testing.T) {
	d := newSandboxDir(t)
	d.runtime(rl(0, "one"), rl(1, "two"))
	sb := d.open()
	fl := openFollower(t, sb, ViewSystem)
	shown := fl.read()
	for i, step := range []func(){
		func() { d.runtime(rl(2, "three")) },
		func() { d.runtime(rl(3, "four")) },
		func() {
			tmp := d.path("runtime.log.new")
			if err := os.WriteFile(tmp, []byte(rl(20, "replaced by a longer file than the old one was")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, d.path(RuntimeLogName)); err != nil {
				t.Fatal(err)
			}
		},
		func() { d.runtime(rl(21, "appended")) },
	} {
		step()
		shown = append(shown, fl.waitAdvance()...)
		compareBytes(t, fmt.Sprintf("step %d", i), readAllAt(t, fl.f, fl.f.Size(), 10), shown)
	}
	if got := splitLines(shown); len(got) != 6 || !strings.HasSuffix(got[4], "system replaced by a longer file than the old one was") {
		t.Errorf("stream: %s", quoteLines(got))
	}
}

// TestMissedRotation: a follow that does not advance while exec.log
// rotates five times ends with ErrMissedRotation; four rotations are
// within the retention window and lose nothing.
func TestMissedRotation(t *testing.T) {
	for _, rotations := range []int{4, 5} {
		t.Run(fmt.Sprint(rotations), func(t *testing.T) {
			d := newSandboxDir(t)
			d.exec(jl(0, "stdout", "0\n"))
			sb := d.open()
			fl := openFollower(t, sb, ViewStdout)
			r := sb.NewReader(ViewStdout, State{})
			defer r.Close()
			drainReader(t, r, 100)
			fl.read()
			var want string
			for i := 1; i <= rotations; i++ {
				d.rotate()
				d.exec(jl(int64(i), "stdout", fmt.Sprintf("%d\n", i)))
				want += fmt.Sprintf("%d\n", i)
			}
			_, err := fl.f.Advance()
			buf := make([]byte, 100)
			n, rerr := r.Read(buf)
			if rotations < ChainLen {
				if err != nil || string(fl.read()) != want {
					t.Errorf("follow: %v", err)
				}
				if rerr != nil || string(buf[:n]) != want {
					t.Errorf("reader: %q, %v", buf[:n], rerr)
				}
				return
			}
			if !errors.Is(err, ErrMissedRotation) {
				t.Errorf("follow: Advance = %v, want ErrMissedRotation", err)
			}
			if _, err2 := fl.f.Advance(); !errors.Is(err2, ErrMissedRotation) {
				t.Errorf("the error is not sticky: %v", err2)
			}
			if !errors.Is(rerr, ErrMissedRotation) {
				t.Errorf("reader: %q, %v; want ErrMissedRotation", buf[:n], rerr)
			}
		})
	}
}

// TestRemovedSandbox: removing a sandbox's directory ends its followers
// with ErrRemoved, and it leaves the list.
func TestRemovedSandbox(t *testing.T) {
	home := newHomeDir(t)
	d := mkSandbox(t, home, "gone")
	d.exec(jl(0, "stdout", "x\n"))
	d.runtime(rl(1, "r"))
	h := openTestHome(t, home)
	sb, err := h.Sandbox("gone")
	if err != nil {
		t.Fatal(err)
	}
	f1, _ := sb.OpenFollow(ViewMerged)
	f2, _ := sb.OpenFollow(ViewStdout)
	defer f1.Close()
	defer f2.Close()
	ch := sb.Changed()
	if err := os.RemoveAll(filepath.Join(home, "sandboxes", "gone")); err != nil {
		t.Fatal(err)
	}
	// At once, before the watcher may have seen it.
	if _, err := f1.Advance(); !errors.Is(err, ErrRemoved) {
		t.Errorf("Advance right after the removal = %v, want ErrRemoved", err)
	}
	if !waitChanged(ch, 5*time.Second) {
		t.Fatal("followers were not woken")
	}
	if _, err := f2.Advance(); !errors.Is(err, ErrRemoved) {
		t.Errorf("Advance after the wake-up = %v, want ErrRemoved", err)
	}
	if names, _ := h.List(); len(names) != 0 {
		t.Errorf("List = %q", names)
	}
	if _, err := h.Sandbox("gone"); !errors.Is(err, ErrNoSandbox) {
		t.Errorf("Sandbox(gone) = %v", err)
	}
	// Created again: a new sandbox, readable.
	d = mkSandbox(t, home, "gone")
	d.exec(jl(5, "stdout", "again\n"))
	sb2, err := h.Sandbox("gone")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(snap(t, sb2, ViewStdout)); got != "again\n" {
		t.Errorf("recreated: %q", got)
	}
}

// TestReaderFollows: a Reader returns 0 at the end of what exists and
// what was appended on a later Read, whatever the buffer size.
func TestReaderFollows(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "first\n"))
	sb := d.open()
	r := sb.NewReader(ViewMergedJSON, State{})
	defer r.Close()
	var all []byte
	all = append(all, drainReader(t, r, 7)...)
	for i := 1; i <= 3; i++ {
		d.exec(jl(int64(i), "stdout", fmt.Sprintf("line %d\n", i)))
		all = append(all, drainReader(t, r, 7)...)
	}
	js := parseJSONL(t, all)
	if got := strings.Join(bodies(js), ""); got != "first\nline 1\nline 2\nline 3\n" {
		t.Errorf("reader: %q", got)
	}
	compareBytes(t, "reader vs snapshot", all, snap(t, d.open(), ViewMergedJSON))
	st := r.State()
	if st.Cursor.String() != js[len(js)-1].Cursor {
		t.Errorf("reader state %v, last cursor %s", st.Cursor, js[len(js)-1].Cursor)
	}
	// SetState repositions.
	c, _ := ParseCursor(js[1].Cursor)
	st, _ = sb.StateAt(c)
	r.SetState(st)
	if got := bodies(parseJSONL(t, drainReader(t, r, 64))); strings.Join(got, "") != "line 2\nline 3\n" {
		t.Errorf("after SetState: %q", got)
	}
}

// TestFollowConcurrentReads: ReadAt and Advance of one Follow from several
// goroutines (the race detector checks the locking).
func TestFollowConcurrentReads(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "start\n"))
	sb := d.open()
	f, err := sb.OpenFollow(ViewMergedJSON)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 3 {
		go func() {
			buf := make([]byte, 333)
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				if _, err := f.Advance(); err != nil {
					errs <- err
					return
				}
				size := f.Size()
				for off := int64(0); off < size; off += 333 {
					if _, err := f.ReadAt(buf, off); err != nil && off+333 < size {
						errs <- err
						return
					}
				}
			}
		}()
	}
	for i := 1; i <= 200; i++ {
		d.exec(jl(int64(i), "stdout", fmt.Sprintf("%d\n", i)))
	}
	close(done)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	f.Advance()
	got := parseJSONL(t, readAllAt(t, f, f.Size(), 4096))
	if len(got) != 201 {
		t.Fatalf("%d entries", len(got))
	}
	for i, j := range got[1:] {
		if j.D != fmt.Sprintf("%d\n", i+1) {
			t.Fatalf("entry %d: %q", i+1, j.D)
		}
	}
}

// TestRemovedAndRecreatedSandbox: a sandbox removed and created again
// under the same name (a restart) is a new sandbox: the followers of the
// old one end with ErrRemoved, even when the watcher only gets to the
// removal after the new directory exists. The test holds the home's lock
// while it removes and re-creates the directory, so that the watcher
// handles the events afterwards, deterministically; a fast re-creation
// does the same by chance (about one run in three without the lock).
func TestRemovedAndRecreatedSandbox(t *testing.T) {
	home := newHomeDir(t)
	d := mkSandbox(t, home, "re")
	d.exec(jl(0, "stdout", "old\n"))
	h := openTestHome(t, home)
	sb, err := h.Sandbox("re")
	if err != nil {
		t.Fatal(err)
	}
	fl := openFollower(t, sb, ViewStdout)
	fl.read()

	h.mu.Lock()
	err = os.RemoveAll(filepath.Join(home, "sandboxes", "re"))
	d = mkSandbox(t, home, "re")
	d.exec(jl(1, "stdout", "new\n"))
	h.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(pollEvery + 2*time.Second)
	for time.Now().Before(deadline) {
		ch := fl.f.Changed()
		grew, err := fl.f.Advance()
		if errors.Is(err, ErrRemoved) {
			return
		}
		if err != nil || grew {
			t.Fatalf("Advance = %v, %v (%q); want ErrRemoved", grew, err, fl.read())
		}
		waitChanged(ch, 200*time.Millisecond)
	}
	t.Errorf("the follower of the removed sandbox neither ended nor showed anything for %v (removed: %v)", pollEvery+2*time.Second, sb.isRemoved())
}

// TestRecreatedSandboxIsWatched: a sandbox removed and made again under
// its name is woken by the watcher, not by the safety poll: the removed
// directories took their inotify watches with them, so the new sandbox
// adds its own at its first Changed.
func TestRecreatedSandboxIsWatched(t *testing.T) {
	home := newHomeDir(t)
	d := mkSandbox(t, home, "re")
	d.exec(jl(0, "stdout", "old\n"))
	h := openTestHome(t, home)
	sb, err := h.Sandbox("re")
	if err != nil {
		t.Fatal(err)
	}
	_ = sb.Changed() // watched from here on
	if err := os.RemoveAll(filepath.Join(home, "sandboxes", "re")); err != nil {
		t.Fatal(err)
	}
	d = mkSandbox(t, home, "re")
	d.exec(jl(1, "stdout", "new\n"))
	var sb2 *Sandbox
	deadline := time.Now().Add(5 * time.Second)
	for sb2 == nil || sb2 == sb {
		if time.Now().After(deadline) {
			t.Fatal("the sandbox made again is still the old one")
		}
		if sb2, err = h.Sandbox("re"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ch := sb2.Changed()
	d.exec(jl(2, "stdout", "newer\n"))
	if !waitChanged(ch, pollEvery/2) {
		t.Fatalf("the sandbox made again was not woken within %v of a write (only the %v safety poll would)", pollEvery/2, pollEvery)
	}
}

// TestFollowOpenPastHeldRotations: a follower opened while a stat's state
// is held, after exec.log rotated past that state's end (more times than
// the chain keeps), opens from the files as they are: it shows the view
// now and follows on, instead of ending at once with ErrMissedRotation; a
// snapshot's open in the same hold still shows the stat's state.
func TestFollowOpenPastHeldRotations(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "0\n"))
	clock := newFakeClock()
	sb := openClocked(t, d, clock)
	st, err := sb.Stat(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for i := 1; i <= ChainLen+1; i++ {
		d.rotate()
		d.exec(jl(int64(i), "stdout", fmt.Sprintf("%d\n", i)))
		if i > 1 { // the first rotation's file, holding 0 and 1, is dropped
			want += fmt.Sprintf("%d\n", i)
		}
	}
	clock.advance(HoldFor / 2) // the stat's state is held
	snap, err := sb.OpenSnapshot(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if snap.Size() != st.Size {
		t.Errorf("a snapshot opened within the hold shows %d bytes, the stat %d", snap.Size(), st.Size)
	}
	fl := openFollower(t, sb, ViewStdout)
	if got := string(fl.read()); got != want {
		t.Errorf("the follower opens with %q, want the view now %q", got, want)
	}
	d.exec(jl(9, "stdout", "9\n"))
	if _, err := fl.f.Advance(); err != nil {
		t.Fatalf("Advance after the open: %v", err)
	}
	if got := string(fl.read()); got != "9\n" {
		t.Errorf("the follower then shows %q, want %q", got, "9\n")
	}
}
