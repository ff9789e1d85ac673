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
)

// readyFDEnv names the descriptor on which a daemon child reports.
const readyFDEnv = "MSB_LOGFS_READY_FD"

// daemonize runs the mount again as a child in a new session, detached from
// the terminal, and returns once the child reports the mount ready (or
// fails, with the child's one-line error).
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
	if cfg.opts.Debug {
		cmd.Stderr = os.Stderr
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	msg, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	line := strings.TrimSpace(string(msg))
	if banner, ok := strings.CutPrefix(line, "ready "); ok {
		fmt.Println(banner)
		return cmd.Process.Release()
	}
	_ = cmd.Wait()
	if line == "" {
		line = "the mount process exited before the mount was ready"
	}
	return errors.New(strings.TrimPrefix(line, "error "))
}

// daemonArgs rebuilds the mount command line without --daemon.
func daemonArgs(cfg mountConfig) []string {
	args := []string{"mount", "--home", cfg.home, "--cache-dir", cfg.cacheDir, "--cache-size", cfg.cacheSize, "--log-format", cfg.logFormat}
	for flag, on := range map[string]bool{"--allow-other": cfg.opts.AllowOther, "--list-all": cfg.opts.ListAll, "--debug": cfg.opts.Debug} {
		if on {
			args = append(args, flag)
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

// reportReady tells a waiting daemon parent that the mount is ready, and
// detaches the standard streams from the terminal.
func reportReady(banner string) {
	f := readyFile()
	if f == nil {
		return
	}
	fmt.Fprintf(f, "ready %s\n", banner)
	f.Close()
	if null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		os.Stdout = null
	}
}

// reportNotReady tells a waiting daemon parent why the mount failed.
func reportNotReady(err error) {
	if f := readyFile(); f != nil {
		fmt.Fprintf(f, "error %s\n", strings.Join(strings.Fields(err.Error()), " "))
		f.Close()
	}
}
