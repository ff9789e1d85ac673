package ship

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/microsandbox/msb-logfs/engine"
)

// A fingerprint covers what the file held when it was taken, not only the
// bytes before the position: a file that took the dropped one's inode
// number and starts with the same line is still told apart.
func TestFingerprintCoversWhatTheFileHeld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "exec.log")
	if err := os.WriteFile(path, []byte("line one\nline two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fp, err := fingerprintOf(dir, engine.Pos{Gen: InodeOf(t, path), Offset: 9})
	if err != nil {
		t.Fatal(err)
	}
	if fp.Len != 18 || !fp.matches(dir) {
		t.Fatalf("fingerprint %+v: want 18 bytes, matching its file", fp)
	}
	appendTo(t, path, "line three\n")
	if !fp.matches(dir) {
		t.Error("the same file, written since, does not match")
	}
	// Another file in its place, with the same first line; fp is given
	// its inode number, as if the filesystem had reused the dropped one's.
	os.Remove(path)
	if err := os.WriteFile(path, []byte("line one\nline TWO\nline three\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fp.Gen = InodeOf(t, path)
	if fp.matches(dir) {
		t.Error("another file with the same first line matches")
	}
	// An empty fingerprint: the file was empty. It matches the file of
	// its inode number whatever it holds now, and nothing once no file of
	// the chain has that number.
	empty := execFingerprint{Gen: InodeOf(t, path)}
	if !empty.matches(dir) {
		t.Error("an empty fingerprint does not match its file")
	}
	os.Rename(path, filepath.Join(dir, "exec.log.9")) // out of the chain
	if empty.matches(dir) {
		t.Error("an empty fingerprint matches a file the chain no longer has")
	}
	gone := execFingerprint{Gen: empty.Gen, Len: headLen, Hash: "gone"}
	os.Rename(filepath.Join(dir, "exec.log.9"), path)
	if gone.matches(dir) {
		t.Error("the fingerprint of a file already gone matches")
	}
}

// InodeOf returns the inode number of path (for the external tests too).
func InodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
