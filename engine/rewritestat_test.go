package engine

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRewriteAtSizeMovesModTime: a log file rewritten in place at its
// size (same inode, same length) shows a new time and the new bytes, so
// that a state shown before is never taken for the new one.
func TestRewriteAtSizeMovesModTime(t *testing.T) {
	d := newSandboxDir(t)
	line := `{"t":"2026-05-01T10:00:00.000Z","s":"stdout","d":"hello\n"}` + "\n"
	d.appendRaw(ExecLogName, line)
	sb := d.open()
	before, err := sb.Stat(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // past the file system's clock tick
	f, err := os.OpenFile(d.path(ExecLogName), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("HELLO"), int64(strings.Index(line, "hello"))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	expireHold(sb)
	after, err := sb.Stat(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	if after.Size != before.Size || !after.ModTime.After(before.ModTime) {
		t.Fatalf("after a rewrite at the same size: size %d (was %d), time %v (was %v), want a later time", after.Size, before.Size, after.ModTime, before.ModTime)
	}
	s, err := sb.OpenSnapshot(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := io.ReadAll(io.NewSectionReader(s, 0, s.Size()))
	if err != nil || string(got) != "HELLO\n" || !s.ModTime().Equal(after.ModTime) {
		t.Fatalf("snapshot after the rewrite: %q %v at %v, want HELLO at %v", got, err, s.ModTime(), after.ModTime)
	}
}

// TestHeldStatLooksAtNothing: while a state is held (HoldFor), a stat
// answers from the index brought up to it without reading the files
// again, so a rewrite in place in that interval shows at the first stat
// after it, as an append does.
func TestHeldStatLooksAtNothing(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(1000, "stdout", "hello\n"), jl(1010, "stdout", "world\n"))
	clock := newFakeClock()
	h := openClockedHome(t, d.home, clock, defaultMaxLive)
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	first, err := sb.Stat(ViewStdout)
	if err != nil || first.Size != int64(len("hello\nworld\n")) {
		t.Fatalf("stdout: %+v, %v", first, err)
	}
	// The same bytes but the last line's stream: a rewrite at the same
	// size, whose last bytes (what the witness reads) differ.
	d.writeFile(ExecLogName, jl(1000, "stdout", "hello\n")+jl(1010, "stderr", "world\n"))
	for range 3 {
		if got, err := sb.Stat(ViewStdout); err != nil || got != first {
			t.Fatalf("stat while the state is held: %+v, %v; want the held %+v", got, err, first)
		}
	}
	clock.advance(HoldFor)
	if got, err := sb.Stat(ViewStdout); err != nil || got.Size != int64(len("hello\n")) {
		t.Fatalf("stat after the hold: %+v, %v; want stdout of %d bytes", got, err, len("hello\n"))
	}
}
