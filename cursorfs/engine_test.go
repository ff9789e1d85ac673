package cursorfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestEngineFollowOfRemovedSandboxIsErrRemoved pins an engine behaviour the
// follow handles rely on (docs/filesystem.md, Removal: followers "get end
// of file" when a sandbox is removed). Removing a sandbox (rm -rf) deletes exec.log before
// the logs directory, and the watcher wakes followers at that deletion; an
// Advance in between finds the follower's exec.log generation in no file of
// the chain. The engine used to report that as a sticky ErrMissedRotation,
// so the reader never saw the removal (found while building cursorfs; fixed
// in the engine by Sandbox.lostPosition). The test replays the removal step
// by step so that the interleaving is deterministic.
func TestEngineFollowOfRemovedSandboxIsErrRemoved(t *testing.T) {
	dir := t.TempDir()
	w, err := msbwriter.Create(dir, "box", msbwriter.Options{})
	must(t, err)
	must(t, w.Exec(msbwriter.Chunk{Source: "stdout", Data: []byte("hi\n")}))
	must(t, w.Close())
	home, err := engine.OpenHome(dir)
	must(t, err)
	defer home.Close()
	sb, err := home.Sandbox("box")
	must(t, err)
	f, err := sb.OpenFollow(engine.ViewMerged)
	must(t, err)
	defer f.Close()

	logs := filepath.Join(dir, "sandboxes", "box", "logs")
	must(t, os.Remove(filepath.Join(logs, "exec.log"))) // rm -rf, first step
	_, mid := f.Advance()                               // a follower woken by that deletion
	must(t, os.RemoveAll(filepath.Join(dir, "sandboxes", "box")))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := f.Advance()
		if errors.Is(err, engine.ErrRemoved) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Advance after the sandbox was removed: %v (mid-removal Advance: %v); want engine.ErrRemoved", err, mid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
