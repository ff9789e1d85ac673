package test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMountpointMadeAndRemoved: `msb-logfs mount` makes a missing
// mountpoint and its missing parents, says so in one log line, and removes
// what it made when it unmounts; a directory that already existed stays.
func TestMountpointMadeAndRemoved(t *testing.T) {
	home := corpusHome(t, "box", 32<<10)
	base := t.TempDir()
	mnt := filepath.Join(base, "a", "b", "mnt")
	m := mountAt(t, home, mnt)
	if !strings.Contains(m.banner, "Stop with Ctrl-C") {
		t.Errorf("foreground banner has no Ctrl-C hint: %q", m.banner)
	}
	if _, err := m.signal(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	log := m.stderr.String()
	for _, want := range []string{
		`msg="mountpoint created" mountpoint=` + mnt + " top=" + filepath.Join(base, "a"),
		`msg="mountpoint removed" mountpoint=` + mnt + " top=" + filepath.Join(base, "a"),
	} {
		if strings.Count(log, want) != 1 {
			t.Errorf("want one log line with %q:\n%s", want, log)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the directories made for the mountpoint are left: %v", err)
	}
	if _, err := os.Stat(base); err != nil {
		t.Errorf("the existing parent went: %v", err)
	}

	existing := filepath.Join(base, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	m = mountAt(t, home, existing)
	if _, err := m.signal(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.stderr.String(), "mountpoint created") {
		t.Errorf("an existing mountpoint logged as created:\n%s", m.stderr)
	}
	if _, err := os.Stat(existing); err != nil {
		t.Errorf("an existing mountpoint was removed: %v", err)
	}
}

// TestMountHelperMissingMountpoint: through mount(8) (mount -t
// fuse.msb-logfs, as an fstab line does) a missing mountpoint is a one-line
// error, and nothing is made. Like TestMountHelper, it runs in a private
// mount namespace whose /usr/local/bin holds the binary under test.
func TestMountHelperMissingMountpoint(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing")
	}
	if os.Geteuid() != 0 {
		requireFUSE(t, "mount(8) of a fuse type needs root")
	}
	home := corpusHome(t, "box", 32<<10)
	missing := filepath.Join(t.TempDir(), "no", "mnt")
	script := "mount --bind " + q(filepath.Dir(binary)) + " /usr/local/bin && mount -t fuse.msb-logfs " + q(home) + " " + q(missing) + " -o ro"
	out, err := exec.Command("timeout", "30", "unshare", "-m", "--propagation", "private", "bash", "-c", script).CombinedOutput()
	if err == nil || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "mountpoint "+missing+" does not exist") {
		t.Errorf("mount -t with a missing mountpoint: %v, output %q; want a failure and one line naming it", err, out)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("mount(8) form made the mountpoint's parent: %v", err)
	}
}

// TestHomeWithoutSandboxesWarns: a home that exists but holds no
// sandboxes directory mounts (microsandbox may make it later), with one
// warning naming the directory expected, in the foreground and the daemon
// form; the daemon's banner does not say Ctrl-C, which cannot stop it.
func TestHomeWithoutSandboxesWarns(t *testing.T) {
	home := t.TempDir()
	want := "level=WARN msg=\"home has no sandboxes directory: no sandbox to show until microsandbox makes it\" expected=" + filepath.Join(home, "sandboxes")
	m := mount(t, home)
	if _, err := m.signal(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(m.stderr.String(), want); n != 1 {
		t.Errorf("foreground: %d warnings %q, want 1:\n%s", n, want, m.stderr)
	}

	mnt := filepath.Join(t.TempDir(), "mnt")
	cmd := exec.Command(binary, "mount", "--daemon", "--home", home, mnt)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mount --daemon: %v: %s", err, stderr.String())
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	if n := strings.Count(stderr.String(), want); n != 1 {
		t.Errorf("daemon: %d warnings %q, want 1:\n%s", n, want, stderr.String())
	}
	if strings.Contains(stdout.String(), "Ctrl-C") || !strings.Contains(stdout.String(), "msb-logfs unmount "+mnt) {
		t.Errorf("daemon banner: %q; want the unmount command and no Ctrl-C", stdout.String())
	}
	if out, err := exec.Command(binary, "unmount", mnt).CombinedOutput(); err != nil {
		t.Fatalf("unmount: %v: %s", err, out)
	}
	waitFor(t, 5*time.Second, "the daemon mount to go", func() bool { return !isMounted(mnt) })
}
