package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// readyFDEnv names the descriptor on which a daemon child reports.
const readyFDEnv = "MSB_LOGFS_READY_FD"

// helperFlag is the hidden mount flag of the mount(8) form, which
// fstabArgs adds and daemonArgs passes on.
const helperFlag = "mount-helper"

// maxChildStderr bounds what the parent keeps of a daemon child's stderr.
const maxChildStderr = 64 << 10

// isDaemonChild reports whether this process is the mount of a --daemon
// parent that waits for its report.
func isDaemonChild() bool { return os.Getenv(readyFDEnv) != "" }

// daemonize runs the mount again as a child in a new session, detached from
// the terminal, and returns once the child reports the mount ready (or
// fails, with the child's one-line error and what fusermount3 said).
func daemonize(cfg mountConfig) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(exe, daemonArgs(cfg)...)
	cmd.Env = append(os.Environ(), readyFDEnv+"=3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stderr, childEnd, err := childStderr(cmd, cfg.opts.Debug)
	if err != nil {
		w.Close()
		return err
	}
	err = cmd.Start()
	w.Close()
	if childEnd != nil {
		childEnd.Close()
	}
	if err != nil {
		stderr.Close()
		return fmt.Errorf("daemon: %w", err)
	}
	said := collect(stderr)
	msg, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	line := strings.TrimSpace(string(msg))
	if banner, ok := strings.CutPrefix(line, "ready "); ok {
		warnNoSandboxes(cfg.home)
		fmt.Println(banner)
		return cmd.Process.Release()
	}
	_ = cmd.Wait()
	if line == "" {
		line = "the mount process exited before the mount was ready"
	}
	line = strings.TrimPrefix(line, "error ")
	if helper := helperLines(<-said); helper != "" {
		line += " (" + helper + ")"
	}
	return errors.New(line)
}

// childStderr gives cmd a pipe for stderr and returns both ends: the
// caller reads the first and closes the second once cmd has started. With
// debug the child writes to this stderr instead, and both are nil. A ready
// child moves its stderr to /dev/null (reportReady), so the pipe ends once
// the mount is ready or has failed.
func childStderr(cmd *exec.Cmd, debug bool) (r, w *os.File, err error) {
	if debug {
		cmd.Stderr = os.Stderr
		return nil, nil, nil
	}
	r, w, err = os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("daemon: %w", err)
	}
	cmd.Stderr = w
	return r, w, nil
}

// collect reads f to its end, keeping the first maxChildStderr bytes, and
// closes it; the channel carries what was kept. A nil f gives "".
func collect(f *os.File) <-chan string {
	out := make(chan string, 1)
	if f == nil {
		out <- ""
		return out
	}
	go func() {
		defer f.Close()
		b, _ := io.ReadAll(io.LimitReader(f, maxChildStderr))
		_, _ = io.Copy(io.Discard, f)
		out <- string(b)
	}()
	return out
}

// helperLines returns, on one line, what a failed child's stderr holds
// besides its own log lines and error: what fusermount3 said.
func helperLines(stderr string) string {
	var said []string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "", strings.HasPrefix(l, "time="), strings.HasPrefix(l, "{"), strings.HasPrefix(l, "msb-logfs:"):
			continue
		}
		said = append(said, l)
	}
	return strings.Join(said, "; ")
}

// daemonArgs rebuilds the mount command line without --daemon, its flags
// in a fixed order.
func daemonArgs(cfg mountConfig) []string {
	args := []string{"mount", "--home", cfg.home, "--cache-dir", cfg.cacheDir, "--cache-size", cfg.cacheSize, "--log-format", cfg.logFormat}
	for _, f := range []struct {
		flag string
		on   bool
	}{{"--" + helperFlag, cfg.helper}, {"--allow-other", cfg.opts.AllowOther}, {"--list-all", cfg.opts.ListAll}, {"--debug", cfg.opts.Debug}} {
		if f.on {
			args = append(args, f.flag)
		}
	}
	return append(args, "--", cfg.mnt)
}

// readyFile returns the daemon parent's pipe, or nil when not a daemon.
func readyFile() *os.File {
	fd, err := strconv.Atoi(os.Getenv(readyFDEnv))
	if err != nil || fd < 3 {
		return nil
	}
	os.Unsetenv(readyFDEnv)
	return os.NewFile(uintptr(fd), "ready")
}

// reportReady detaches the standard streams from the parent (its stderr
// pipe ends here; with debug stderr stays, and the parent may exit as soon as it reads the report),
// then tells the waiting daemon parent that the mount is ready.
func reportReady(banner string, debug bool) {
	f := readyFile()
	if f == nil {
		return
	}
	if null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		_ = unix.Dup2(int(null.Fd()), 1)
		if !debug { // with --debug, stderr is the parent's own
			_ = unix.Dup2(int(null.Fd()), 2)
		}
		null.Close()
	}
	fmt.Fprintf(f, "ready %s\n", banner)
	f.Close()
}

// reportNotReady tells a waiting daemon parent why the mount failed.
func reportNotReady(err error) {
	if f := readyFile(); f != nil {
		fmt.Fprintf(f, "error %s\n", strings.Join(strings.Fields(err.Error()), " "))
		f.Close()
	}
}
