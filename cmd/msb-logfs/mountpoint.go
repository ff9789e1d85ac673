package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// defaultMountpoint is where mount mounts without an argument.
const defaultMountpoint = "/mnt/msb-logs"

// mountpointArg returns the absolute mountpoint named by the first
// argument, or def.
func mountpointArg(arg, def string) (string, error) {
	if arg == "" {
		arg = def
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return "", fmt.Errorf("mountpoint %s: %w", arg, err)
	}
	return abs, nil
}

// prepareMountpoint makes mnt a directory ready to mount on: it detaches a
// stale mount left by a killed process ("transport endpoint is not
// connected") and, if create is set, makes a missing mnt and its missing
// parents, which it returns deepest first. Without create (the mount(8)
// form) a missing mnt is an error, as mount(8) users expect.
func prepareMountpoint(mnt string, create bool) (created []string, err error) {
	_, err = os.Stat(mnt)
	if errors.Is(err, syscall.ENOTCONN) {
		slog.Warn("detaching a stale mount left by a killed process", "mountpoint", mnt)
		if err := detach(mnt); err != nil {
			return nil, fmt.Errorf("stale mount at %s: %w", mnt, err)
		}
		_, err = os.Stat(mnt)
	}
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("mountpoint %s does not exist", mnt)
		}
		return makeMountpoint(mnt)
	}
	if err != nil {
		return nil, fmt.Errorf("mountpoint: %w", err)
	}
	if mountedAt(mnt, "fuse.msb-logfs") {
		return nil, fmt.Errorf("%s is already a msb-logfs mount: unmount it first (msb-logfs unmount %s)", mnt, mnt)
	}
	return nil, nil
}

// makeMountpoint makes the missing directory mnt and its missing parents,
// says so in one log line, and returns what it made, deepest first.
func makeMountpoint(mnt string) ([]string, error) {
	var missing []string
	for dir := mnt; ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(dir); err == nil || dir == filepath.Dir(dir) {
			break
		}
		missing = append(missing, dir)
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		removePartial(missing)
		return nil, fmt.Errorf("create mountpoint: %w", err)
	}
	if len(missing) == 0 { // made by someone else meanwhile
		return nil, nil
	}
	slog.Info("mountpoint created", "mountpoint", mnt, "top", missing[len(missing)-1])
	return missing, nil
}

// removePartial removes, deepest first, the directories of missing that a
// failed MkdirAll made before it stopped; those it never reached do not
// exist (or cannot: a name too long). It stops at the first it cannot
// remove.
func removePartial(missing []string) {
	for _, dir := range missing {
		if _, err := os.Lstat(dir); err != nil {
			continue
		}
		if err := os.Remove(dir); err != nil {
			return
		}
	}
}

// removeMade removes the directories makeMountpoint made, deepest first,
// and stops at the first that is not empty.
func removeMade(dirs []string) {
	for _, dir := range dirs {
		if err := os.Remove(dir); err != nil {
			slog.Debug("keeping a directory made for the mountpoint", "dir", dir, "err", err)
			return
		}
	}
	if len(dirs) > 0 {
		slog.Info("mountpoint removed", "mountpoint", dirs[0], "top", dirs[len(dirs)-1])
	}
}

// detach unmounts mnt lazily: the mount leaves the tree at once and goes
// away when its last open file closes.
func detach(mnt string) error {
	if os.Geteuid() == 0 {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("umount -l %s: %w", mnt, err)
		}
		return nil
	}
	return fusermount("-u", "-z", mnt)
}

// fusermount runs fusermount3 with args.
func fusermount(args ...string) error {
	bin, err := fusermountPath()
	if err != nil {
		return err
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if msg := strings.Join(strings.Fields(string(out)), " "); err != nil && msg != "" {
		return fmt.Errorf("%s: %s (%w)", filepath.Base(bin), msg, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(bin), err)
	}
	return nil
}

// fusermountPath finds the helper that mounts FUSE for a normal user.
func fusermountPath() (string, error) {
	for _, name := range []string{"fusermount3", "fusermount"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		if p := "/bin/" + name; isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("fusermount3 not found: mounting as a normal user needs it (install the fuse3 package), or mount as root")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// checkFuse explains, in one line, why a mount cannot work here.
func checkFuse(direct bool) error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return errors.New("/dev/fuse is missing: load the fuse kernel module (modprobe fuse) or give the container the device; `msb-logfs logs` reads logs without FUSE")
	}
	if direct {
		return nil
	}
	if _, err := fusermountPath(); err != nil {
		return err
	}
	if err := unix.Access("/dev/fuse", unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("/dev/fuse is not open to uid %d (%w): mount as root, or make /dev/fuse mode 0666 as distributions do", os.Getuid(), err)
	}
	return nil
}

// lineError shows an error on one line (fusermount's messages span lines).
type lineError struct{ err error }

func (e lineError) Error() string { return strings.Join(strings.Fields(e.err.Error()), " ") }
func (e lineError) Unwrap() error { return e.err }

// mountDevice returns the device number of the filesystem mounted at mnt.
func mountDevice(mnt string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(mnt, &st); err != nil {
		return 0, fmt.Errorf("stat %s: %w", mnt, err)
	}
	return st.Dev, nil
}

// mountTable is the calling process's mount table (proc(5)); the kernel
// wakes a poll(2) on it at every change.
const mountTable = "/proc/self/mountinfo"

// mountedAt reports whether the mount table shows a mount of type fstype
// at mnt.
func mountedAt(mnt, fstype string) bool {
	found, err := anyMount(func(m *mountinfo.Info) bool { return m.Mountpoint == mnt && m.FSType == fstype })
	return err == nil && found
}

// mounted reports whether the mount table shows a mount of device dev at
// mnt.
func mounted(mnt string, dev uint64) (bool, error) {
	return anyMount(func(m *mountinfo.Info) bool {
		return m.Mountpoint == mnt && m.Major == int(unix.Major(dev)) && m.Minor == int(unix.Minor(dev))
	})
}

// anyMount reports whether a line of the mount table satisfies match.
func anyMount(match func(*mountinfo.Info) bool) (bool, error) {
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		ok := match(m)
		return !ok, ok
	})
	if err != nil {
		return false, fmt.Errorf("read the mount table: %w", err)
	}
	return len(mounts) > 0, nil
}

// watchUnmount returns a channel closed when the mount of dev at mnt
// leaves the mount table (an external `umount -l` or `msb-logfs unmount`
// of a busy mount). It sleeps in poll(2) on /proc/self/mountinfo, which the
// kernel wakes at every change of the mount table, and looks again at least
// every interval, until stop is closed.
func watchUnmount(mnt string, dev uint64, interval time.Duration, stop <-chan struct{}) <-chan struct{} {
	gone := make(chan struct{})
	go func() {
		table, err := os.Open(mountTable)
		if err == nil {
			defer table.Close()
		}
		for {
			waitMountChange(table, interval)
			select {
			case <-stop:
				return
			default:
			}
			if ok, err := mounted(mnt, dev); err == nil && !ok {
				close(gone)
				return
			}
		}
	}()
	return gone
}

// waitMountChange waits until the mount table changes or timeout passes.
func waitMountChange(table *os.File, timeout time.Duration) {
	if table == nil {
		time.Sleep(timeout)
		return
	}
	fds := []unix.PollFd{{Fd: int32(table.Fd()), Events: unix.POLLPRI}}
	if _, err := unix.Poll(fds, int(timeout.Milliseconds())); err != nil && err != unix.EINTR {
		time.Sleep(timeout)
	}
}
