package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// nobody is the user the non-root test mounts as.
const nobody = 65534

// TestNonRootMount mounts as a normal user through fusermount3, reads it as
// that user, and unmounts it with `msb-logfs unmount` as that user. It needs
// root (to become the user), fusermount3, and a /dev/fuse open to everyone,
// as distributions ship it.
func TestNonRootMount(t *testing.T) {
	requireUserMount(t)
	dir, err := os.MkdirTemp("", "msb-logfs-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	home, mnt := filepath.Join(dir, "home"), filepath.Join(dir, "mnt")
	w, err := msbwriter.Create(home, "box", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mark(t, w, "as nobody")
	w.Close()
	for _, p := range []string{dir, home, mnt} {
		_ = os.MkdirAll(p, 0o755)
	}
	chownAll(t, dir)

	asNobody := func(args ...string) *exec.Cmd {
		cmd := exec.Command(binary, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		return cmd
	}
	out, err := asNobody("mount", "--daemon", "--home", home, mnt).CombinedOutput()
	if err != nil {
		t.Fatalf("mount as nobody: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("fusermount3", "-u", "-z", mnt).Run() })
	cat := asNobody()
	cat.Path, cat.Args = "/bin/cat", []string{"cat", filepath.Join(mnt, "box", "stdout")}
	if got, err := cat.Output(); err != nil || string(got) != "as nobody\n" {
		t.Fatalf("cat as nobody: %q, %v", got, err)
	}
	if _, err := os.ReadFile(filepath.Join(mnt, "box", "stdout")); err == nil {
		t.Error("root could read a mount made without --allow-other")
	}
	if out, err := asNobody("unmount", mnt).CombinedOutput(); err != nil {
		t.Fatalf("unmount as nobody: %v: %s", err, out)
	}
	waitFor(t, 3*time.Second, "the mount to go", func() bool { return !isMounted(mnt) })
}

// requireUserMount skips (or fails, under MSB_LOGFS_REQUIRE_FUSE=1) a test
// that mounts as another user: it needs root, fusermount3, and a
// /dev/fuse open to everyone, as distributions ship it.
func requireUserMount(t *testing.T) {
	t.Helper()
	fi, err := os.Stat("/dev/fuse")
	switch {
	case err != nil:
		requireFUSE(t, fmt.Sprintf("/dev/fuse: %v", err))
	case os.Geteuid() != 0:
		requireFUSE(t, "needs root to run the mount as another user")
	case fi.Mode().Perm()&0o006 != 0o006:
		requireFUSE(t, fmt.Sprintf("/dev/fuse is %v, not open to other users", fi.Mode()))
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		requireFUSE(t, "no fusermount3 (Debian package fuse3)")
	}
}

func chownAll(t *testing.T, dir string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, nobody, nobody)
	})
	if err != nil && !strings.Contains(err.Error(), "no such file") {
		t.Fatal(err)
	}
}

// TestDaemonShowsFusermountReason: when fusermount3 refuses a normal
// user's mount (here: a mountpoint the user may not write), `mount
// --daemon` says why in its one-line error, as the foreground form shows
// fusermount3's own line.
func TestDaemonShowsFusermountReason(t *testing.T) {
	requireUserMount(t)
	dir, err := os.MkdirTemp("", "msb-logfs-refused-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	home, mnt := filepath.Join(dir, "home"), filepath.Join(dir, "mnt")
	for _, p := range []string{filepath.Join(home, "sandboxes"), mnt} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.Chmod(dir, 0o755)
	// mnt stays root's, 0755: nobody may not write it.
	chownAll(t, home)
	const reason = "user has no write access to mountpoint " // fusermount3's words
	for _, daemon := range []bool{false, true} {
		args := []string{"mount", "--home", home, mnt}
		if daemon {
			args = []string{"mount", "--daemon", "--home", home, mnt}
		}
		cmd := exec.Command("timeout", append([]string{"30", binary}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		if exitCode(err) != 1 || !strings.Contains(stderr.String(), reason+mnt) {
			t.Errorf("%q as nobody: %v, stderr %q; want status 1 and fusermount3's %q", args, err, stderr.String(), reason)
		}
		if daemon && strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("daemon form: want one line, got %q", stderr.String())
		}
	}
	if isMounted(mnt) {
		t.Error("a refused mount is mounted")
	}
}
