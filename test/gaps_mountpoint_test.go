package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountFails runs `msb-logfs mount` at mnt (as uid, when not 0), which
// must fail; it returns the output, after checking that the status is not
// zero, that the output is one line and that nothing was mounted at mnt.
func mountFails(t *testing.T, uid int, home, mnt string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "mount", "--home", home, mnt)
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	out, err := cmd.CombinedOutput()
	if isMounted(mnt) {
		_ = syscall.Unmount(mnt, syscall.MNT_DETACH)
		t.Fatalf("mount at %s succeeded: %s", mnt, out)
	}
	if ctx.Err() != nil || exitCode(err) <= 0 {
		t.Fatalf("mount at %s: %v (status %d), want a non-zero exit; output %q", mnt, err, exitCode(err), out)
	}
	msg := strings.TrimSuffix(string(out), "\n")
	if msg == "" || strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine ") {
		t.Errorf("mount at %s: output %q, want one line of error", mnt, out)
	}
	return msg
}

// treeOf lists every path under dir with its mode, size and content, so
// that a test can tell that a failed command left dir as it was.
func treeOf(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + " " + fi.Mode().String())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.WriteString(" " + string(data) + " " + fi.ModTime().String())
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGapsMountpointIsAFile: a regular file as the mountpoint, or as a
// component of its parent, is a one-line error naming the path and saying
// what is wrong, with a non-zero exit; the file keeps its content, mode
// and mtime, and nothing is made beside it.
func TestGapsMountpointIsAFile(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing") // the mount checks FUSE first
	}
	home := corpusHome(t, "box", 16<<10)
	base := t.TempDir()
	file := filepath.Join(base, "precious")
	if err := os.WriteFile(file, []byte("do not touch\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(file, old, old); err != nil {
		t.Fatal(err)
	}
	before := treeOf(t, base)
	for _, mnt := range []string{file, filepath.Join(file, "sub", "mnt")} {
		msg := mountFails(t, 0, home, mnt)
		if !strings.Contains(msg, file) || !strings.Contains(msg, "not a directory") {
			t.Errorf("mount at %s: %q, want the path and \"not a directory\"", mnt, msg)
		}
		if after := treeOf(t, base); after != before {
			t.Errorf("mount at %s changed %s:\nbefore:\n%s\nafter:\n%s", mnt, base, before, after)
		}
	}
}

// TestGapsMountpointMkdirFails: when the mountpoint's missing parents
// cannot all be made — a name too long after two that could be made, a
// parent the user may not write — the mount is a one-line error naming
// the directory and the reason, with a non-zero exit, and every directory
// it made on the way is gone. Run as nobody, as a user mount is (through
// fusermount3), with the user's own regular file as the mountpoint too.
func TestGapsMountpointMkdirFails(t *testing.T) {
	requireUserMount(t) // the mount checks fusermount3 and /dev/fuse first
	dir, err := os.MkdirTemp("", "msb-logfs-gaps-mnt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // root's, searchable, not writable by nobody
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, "sandboxes", "box", "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "mine") // nobody's
	if err := os.Mkdir(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(mine, "precious") // nobody's: a user mount may not take it either
	if err := os.WriteFile(file, []byte("do not touch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	chownAll(t, mine)
	long := strings.Repeat("x", 300) // past NAME_MAX (255)
	for _, tc := range []struct {
		mnt, failing, reason string
	}{
		{filepath.Join(mine, "a", "b", long), filepath.Join(mine, "a", "b", long), "file name too long"},
		{filepath.Join(dir, "new", "mnt"), filepath.Join(dir, "new"), "permission denied"},
		{file, file, "not a directory"},
	} {
		before := treeOf(t, dir)
		msg := mountFails(t, nobody, home, tc.mnt)
		if !strings.Contains(msg, tc.failing) || !strings.Contains(msg, tc.reason) {
			t.Errorf("mount at %.80s…: %q, want %.80s… and %q", tc.mnt, msg, tc.failing, tc.reason)
		}
		if after := treeOf(t, dir); after != before {
			t.Errorf("mount at %.80s… left something behind:\nbefore:\n%s\nafter:\n%s", tc.mnt, before, after)
		}
	}
	// The same failure as root, where no permission stops a mkdir.
	before := treeOf(t, dir)
	msg := mountFails(t, 0, home, filepath.Join(dir, "r", "s", long))
	if !strings.Contains(msg, "file name too long") {
		t.Errorf("mount as root at a name too long: %q", msg)
	}
	if after := treeOf(t, dir); after != before {
		t.Errorf("mount as root left something behind:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
