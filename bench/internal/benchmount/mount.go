package benchmount

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
)

// Mount is a running mount process: `msb-logfs mount` or the loopback.
type Mount struct {
	cmd     *exec.Cmd
	mnt     string
	logPath string
	exited  chan struct{}
	rc      int
	stopped bool
}

// startMount starts `bin mount --home home mnt`, its output to logPath, and
// waits until ready (the sandbox's directory in the mount) exists.
func startMount(ctx context.Context, bin, home, mnt, logPath, ready string) (*Mount, error) {
	return StartMount(ctx, Spec{Bin: bin, Home: home, Mnt: mnt, LogPath: logPath, Ready: ready})
}

// Spec describes a mount to start.
type Spec struct {
	Bin, Home, Mnt string
	LogPath        string   // the mount process's output
	Ready          string   // a path that exists once the mount is ready
	Prefix         []string // runs the mount through this command line (prlimit …)
	Flags          []string // more flags of msb-logfs mount
}

// StartMount starts the mount of spec and waits until it is ready.
func StartMount(ctx context.Context, spec Spec) (*Mount, error) {
	m, err := spawnMount(spec)
	if err != nil {
		return nil, err
	}
	if err := m.waitReady(ctx, spec.Ready); err != nil {
		return nil, err
	}
	return m, nil
}

func spawnMount(spec Spec) (*Mount, error) {
	args := append([]string{}, spec.Prefix...)
	args = append(append(append(args, spec.Bin, "mount", "--home", spec.Home), spec.Flags...), "--", spec.Mnt)
	return spawn(args, spec.Mnt, spec.LogPath)
}

// StartLoopback starts bench/loopback's binary serving src on mnt, its
// output to logPath, and waits until ready (a path under mnt) exists. Stop
// and Pid work as for an msb-logfs mount.
func StartLoopback(ctx context.Context, bin, src, mnt, logPath, ready string) (*Mount, error) {
	m, err := spawn([]string{bin, "-src", src, "-mnt", mnt}, mnt, logPath)
	if err != nil {
		return nil, err
	}
	if err := m.waitReady(ctx, ready); err != nil {
		return nil, err
	}
	return m, nil
}

// spawn starts the process of args, which mounts mnt, its output to logPath.
func spawn(args []string, mnt, logPath string) (*Mount, error) {
	bin := args[0]
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Should this process be killed outright, the mount unmounts itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	m := &Mount{cmd: cmd, mnt: mnt, logPath: logPath, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		m.rc = ExitCode(err)
		close(m.exited)
	}()
	return m, nil
}

// waitReady waits up to 30 s for path to exist; the mount is stopped if it
// does not.
func (m *Mount) waitReady(ctx context.Context, path string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-m.exited:
			m.stopped = true
			unmountLeftover(m.mnt)
			return fmt.Errorf("%s exited with status %d before it was ready:\n%s", m.cmd.Path, m.rc, LogTail(m.logPath, 10))
		case <-ctx.Done():
			m.Stop(syscall.SIGINT)
			return ErrInterrupted
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.Stop(syscall.SIGINT)
			return fmt.Errorf("%s not ready within 30 s:\n%s", m.cmd.Path, LogTail(m.logPath, 10))
		}
	}
}

// Pid is the mount process's pid.
func (m *Mount) Pid() int { return m.cmd.Process.Pid }

// LogPath is the file that holds the mount process's output.
func (m *Mount) LogPath() string { return m.logPath }

// Stop sends sig and waits up to 10 s, then SIGKILL; a mount still left is
// unmounted (detached as a last resort) and makes the status -1 if it was
// 0. It returns the process's exit status and how long it took to exit;
// once stopped, it returns that status again and 0.
func (m *Mount) Stop(sig syscall.Signal) (rc int, took time.Duration) {
	if m.stopped {
		return m.rc, 0
	}
	m.stopped = true
	start := time.Now()
	_ = m.cmd.Process.Signal(sig)
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		log.Printf("%s (pid %d) still running 10 s after %v: killing it", m.cmd.Path, m.cmd.Process.Pid, sig)
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
	took = time.Since(start)
	if isMounted(m.mnt) {
		log.Printf("%s left %s mounted", m.cmd.Path, m.mnt)
		unmountLeftover(m.mnt)
		if m.rc == 0 {
			m.rc = -1
		}
	}
	return m.rc, took
}

// ExitCode is the exit status of a process that cmd.Wait returned err for:
// 128+n for a process killed by signal n, -1 when there is none.
func ExitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.ExitCode() >= 0 {
			return ee.ExitCode()
		}
		return 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
	}
	return -1
}

// isMounted reports whether dir is a mountpoint in the mount table.
func isMounted(dir string) bool {
	mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(dir))
	return err == nil && len(mounts) > 0
}

// unmountLeftover unmounts dir if it is still mounted, lazily if need be.
func unmountLeftover(dir string) {
	if !isMounted(dir) {
		return
	}
	if err := syscall.Unmount(dir, 0); err != nil {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			log.Printf("could not unmount %s: %v", dir, err)
		}
	}
}

// UnmountUnder unmounts every mount below dir, deepest first (what a
// killed benchmark would leave behind), detaching those that are busy, and
// reports whether any is still there.
func UnmountUnder(dir string) (left bool) {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(filepath.Clean(dir)))
	if err != nil {
		log.Printf("could not read the mount table: %v", err)
		return true
	}
	var under []string
	for _, m := range mounts {
		if m.Mountpoint != filepath.Clean(dir) {
			under = append(under, m.Mountpoint)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(under)))
	for _, p := range under {
		log.Printf("left mounted: %s", p)
		unmountLeftover(p)
		left = left || isMounted(p)
	}
	return left
}
