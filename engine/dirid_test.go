package engine

import (
	"os"
	"testing"
)

// A sandbox's DirID is its logs directory's identity; the directory made
// again at the same path has another, even with the same inode number
// (filesystems such as ext4 hand a freed one out again at once).
func TestDirIDTellsADirectoryMadeAgain(t *testing.T) {
	d := newSandboxDir(t)
	h, err := OpenHome(d.home)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	now, ok := IdentifyDir(sb.LogsDir())
	if !ok || now != sb.DirID() || now.Ino == 0 {
		t.Fatalf("DirID %+v, IdentifyDir %+v %v: want the same, not zero", sb.DirID(), now, ok)
	}
	if err := os.Remove(d.logs); err != nil {
		t.Fatal(err)
	}
	if _, ok := IdentifyDir(sb.LogsDir()); ok {
		t.Error("a removed directory is identified")
	}
	if err := os.Mkdir(d.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	again, ok := IdentifyDir(d.logs)
	if !ok || again == sb.DirID() {
		t.Errorf("the directory made again has the identity of the first (%+v)", again)
	}
	sb2, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	if sb2.DirID() != again {
		t.Errorf("the sandbox made again has DirID %+v, want %+v", sb2.DirID(), again)
	}
}
