package benchmount

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
)

// Mount is a running `msb-logfs mount`.
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
	bin, mnt, logPath := spec.Bin, spec.Mnt, spec.LogPath
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	args := append([]string{}, spec.Prefix...)
	args = append(append(append(args, bin, "mount", "--home", spec.Home), spec.Flags...), "--", mnt)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Should this process be killed outright, the mount unmounts itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s mount: %w", bin, err)
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
			return fmt.Errorf("msb-logfs mount exited with status %d before it was ready:\n%s", m.rc, LogTail(m.logPath, 10))
		case <-ctx.Done():
			m.Stop(syscall.SIGINT)
			return ErrInterrupted
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.Stop(syscall.SIGINT)
			return fmt.Errorf("msb-logfs mount not ready within 30 s:\n%s", LogTail(m.logPath, 10))
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
		log.Printf("msb-logfs mount (pid %d) still running 10 s after %v: killing it", m.cmd.Process.Pid, sig)
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
	took = time.Since(start)
	if isMounted(m.mnt) {
		log.Printf("msb-logfs mount left %s mounted", m.mnt)
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
