package test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// fdTargets returns what each open descriptor of pid names, by number.
func fdTargets(t *testing.T, pid int) map[string]string {
	t.Helper()
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(ents))
	for _, e := range ents {
		target, _ := os.Readlink(filepath.Join(fdDir, e.Name())) // "" if it closed meanwhile
		out[e.Name()] = target
	}
	return out
}

// fdCount counts the open descriptors of pid.
func fdCount(t *testing.T, pid int) int { return len(fdTargets(t, pid)) }

// procStatus returns field name of /proc/PID/status in KiB (VmRSS, VmHWM).
func procStatus(t *testing.T, pid int, name string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("/proc/%d/status %s: %q", pid, name, v)
			}
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, name)
	return 0
}

// procLimit returns the soft value of limit name in /proc/PID/limits.
func procLimit(t *testing.T, pid int, name string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, name); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// allocatedUnder sums the bytes the files under dir hold on disk (what du
// counts); 0 if dir does not exist.
func allocatedUnder(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		if !d.IsDir() {
			total += st.Blocks * 512
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return total
}

// fdsUnder lists the descriptors of pid open on files under dir.
func fdsUnder(t *testing.T, pid int, dir string) []string {
	t.Helper()
	var out []string
	for _, target := range fdTargets(t, pid) {
		if strings.HasPrefix(target, dir+"/") {
			out = append(out, target)
		}
	}
	return out
}

// inotifyWatches counts the inotify watches of pid.
func inotifyWatches(t *testing.T, pid int) int {
	t.Helper()
	n := 0
	for fd, target := range fdTargets(t, pid) {
		if target == "anon_inode:inotify" {
			info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd))
			if err != nil {
				t.Fatal(err)
			}
			n += strings.Count(string(info), "inotify wd:")
		}
	}
	return n
}
