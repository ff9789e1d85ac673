package ship_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/ship/checkpoint"
)

// saveCheckpoint writes sandbox name's checkpoint at cursor c, with the
// identity of its logs directory as it is now; edit adjusts it.
func (r *rig) saveCheckpoint(name string, c engine.Cursor, edit func(*checkpoint.Checkpoint)) {
	r.t.Helper()
	var dir syscall.Stat_t
	if err := syscall.Stat(filepath.Join(r.home, "sandboxes", name, "logs"), &dir); err != nil {
		r.t.Fatal(err)
	}
	cp := &checkpoint.Checkpoint{Sandbox: name, LogsDev: dir.Dev, LogsIno: dir.Ino, Cursor: c.String(), Saved: time.Now()}
	if edit != nil {
		edit(cp)
	}
	st, err := checkpoint.Open(r.state)
	if err != nil {
		r.t.Fatal(err)
	}
	defer st.Close()
	if err := st.Save(cp); err != nil {
		r.t.Fatal(err)
	}
}

// execIno returns the inode number of sandbox name's exec.log.
func (r *rig) execIno(name string) uint64 {
	r.t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(r.home, "sandboxes", name, "logs", "exec.log"), &st); err != nil {
		r.t.Fatal(err)
	}
	return st.Ino
}

// A checkpoint at the start of an exec file that was empty then (an
// empty fingerprint) whose file rotation dropped since is a loss, said
// and counted, and shipping goes on from the oldest file: not a corrupt
// checkpoint.
func TestEmptyFingerprintOfADroppedFile(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 8<<10)
	// Held open, the dropped file's inode number is not reused: this is
	// the case an empty fingerprint can tell.
	first, err := os.Open(filepath.Join(r.home, "sandboxes", "foo", "logs", "exec.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	r.saveCheckpoint("foo", engine.Cursor{{Gen: r.execIno("foo")}}, nil)
	numbered(t, w, 0, 3000) // far more than the five files hold
	s := r.runOnce(nil)
	if s.Stats.Failed.Load() != 0 || s.Stats.Losses.Load() != 1 {
		t.Fatalf("failed %d, losses %d; want 0 and 1:\n%s", s.Stats.Failed.Load(), s.Stats.Losses.Load(), r.log)
	}
	if out := r.log.String(); !strings.Contains(out, "LOST") {
		t.Errorf("the loss is not said:\n%s", out)
	}
	count, _, _ := numbersOf(r.sink.all(), "foo")
	if count[2999] != 1 || count[0] != 0 {
		t.Errorf("rec 0 x%d, rec 2999 x%d: want the oldest file on, once", count[0], count[2999])
	}
}

// A checkpoint at the start of an exec file that was empty then, and that
// was written since, resumes at its start: nothing lost, nothing twice.
func TestEmptyFingerprintOfAFileWrittenSince(t *testing.T) {
	r := newRig(t)
	w := r.writer("foo", 0)
	r.saveCheckpoint("foo", engine.Cursor{{Gen: r.execIno("foo")}}, nil)
	numbered(t, w, 0, 50)
	s := r.runOnce(nil)
	expectEach(t, r.sink.all(), "foo", 50, 1)
	if s.Stats.Losses.Load() != 0 || s.Stats.Failed.Load() != 0 {
		t.Errorf("losses %d, failed %d; want 0 and 0:\n%s", s.Stats.Losses.Load(), s.Stats.Failed.Load(), r.log)
	}
}
