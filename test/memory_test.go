package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
	"golang.org/x/sys/unix"
)

// vmHWM returns the peak resident set size of process pid.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// TestMountMemoryBoundedByLine: one 10 MiB exec.log line whose d is 5 Mi
// newline escapes (170 MB as text) is served by every view of a real mount
// — read whole with cat, and through merged.follow — with the mount's peak
// RSS (VmHWM) within 128 MiB. The mount binary is built without -race here
// (the race detector multiplies memory); it runs with --daemon.
func TestMountMemoryBoundedByLine(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing")
	}
	home := t.TempDir()
	s, err := msbwriter.Create(home, "big", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := msbwriter.DefaultCorpusStart
	for i, d := range []string{strings.Repeat("\n", 5<<20), "after\n"} {
		if err := s.Exec(msbwriter.Chunk{Time: start.Add(time.Duration(i) * time.Second), Source: "stdout", Data: []byte(d)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "msb-logfs")
	if out, err := exec.Command("go", "build", "-o", plain, "github.com/microsandbox/msb-logfs/cmd/msb-logfs").CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	banner, stderr, err := shErr(30*time.Second, q(plain)+" mount --daemon --home "+q(home)+" "+q(dir))
	if err != nil {
		requireFUSE(t, "mount --daemon: "+err.Error()+": "+stderr)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	m := regexp.MustCompile(`\(pid ([0-9]+)\)`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("no pid in the banner %q", banner)
	}
	pid, _ := strconv.Atoi(m[1])
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	const textLen = len("2026-05-01T10:00:00.000Z stdout \n")
	merged := 5<<20*textLen + textLen - 1 + len("after\n")
	for _, c := range []struct {
		cmd  string
		want int
	}{
		{"cat stdout", 5<<20 + len("after\n")},
		{"cat merged.jsonl", -1},
		{"cat merged", merged},
		{"cat merged", merged}, // again: the chunk is past the render cache's bound
		{"cat output system", 0},
		{fmt.Sprintf("head -c %d merged.follow", merged), merged},
	} {
		got := sh(t, 60*time.Second, fmt.Sprintf("cd %s && %s | wc -c", q(filepath.Join(dir, "big")), c.cmd))
		n, err := strconv.Atoi(strings.TrimSpace(got))
		if err != nil || (c.want >= 0 && n != c.want) || (c.want < 0 && n < 10<<20) {
			t.Errorf("%s: %q bytes, want %d", c.cmd, got, c.want)
		}
		peak := vmHWM(t, pid)
		t.Logf("%s: %d bytes, mount peak RSS %d MiB", c.cmd, n, peak>>20)
		if peak > 128<<20 {
			t.Errorf("after %s: mount peak RSS %d MiB, want at most 128 MiB", c.cmd, peak>>20)
		}
	}
}
