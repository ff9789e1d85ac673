package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
	"golang.org/x/sys/unix"
)

// TestMountFlagsAfterMountpoint: "mount MNT --home H --daemon" mounts H
// (urfave/cli alone stopped at MNT and refused "--home" as a second
// MOUNTPOINT), through a real FUSE mount read by cat.
func TestMountFlagsAfterMountpoint(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing")
	}
	home := t.TempDir()
	s, err := msbwriter.Create(home, "foo", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Exec(msbwriter.Chunk{Time: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Source: "stdout", Data: []byte("hello\n"), ID: 1, HasID: true}); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	if out, err := exec.Command(binary, "mount", mnt, "--home", home, "--daemon").CombinedOutput(); err != nil {
		t.Fatalf("mount MNT --home H --daemon: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = unix.Unmount(mnt, unix.MNT_DETACH) })
	if got := sh(t, 10*time.Second, "cat "+q(filepath.Join(mnt, "foo", "stdout"))); got != "hello\n" {
		t.Errorf("cat MNT/foo/stdout: %q", got)
	}
	if out, err := exec.Command(binary, "unmount", mnt).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("unmount: %v: %s", err, out)
	}
}
