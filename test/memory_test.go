package test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
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

// bigLineHome makes a home with sandbox big whose exec.log holds one
// 10 MiB line — d is 5 Mi newline escapes, 170 MB as text — and a short one.
func bigLineHome(t *testing.T) string {
	t.Helper()
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
	return home
}

// Sizes of the views of bigLineHome.
const (
	bigTextLen = len("2026-05-01T10:00:00.000Z stdout \n")
	bigRaw     = 5<<20 + len("after\n")
	bigText    = 5<<20*bigTextLen + bigTextLen - 1 + len("after\n")
	bigJSONMin = 10 << 20
)

// plain is msb-logfs built without the race detector, for the tests that
// measure memory (the race detector multiplies it). It is built at first
// use, once for the whole test binary.
var plain struct {
	once sync.Once
	path string
	err  error
}

// plainBinary returns the path of the plain build.
func plainBinary(t *testing.T) string {
	t.Helper()
	plain.once.Do(func() {
		plain.path = filepath.Join(filepath.Dir(binary), "msb-logfs-plain")
		out, err := exec.Command("go", "build", "-o", plain.path, "github.com/microsandbox/msb-logfs/cmd/msb-logfs").CombinedOutput()
		if err != nil {
			plain.err = fmt.Errorf("build msb-logfs without -race: %v: %s", err, out)
		}
	})
	if plain.err != nil {
		t.Fatal(plain.err)
	}
	return plain.path
}

// TestLogsMemoryBoundedByLine: `logs` prints bigLineHome's line in every
// format, and with --tail, with a peak RSS within 128 MiB. VmHWM is read
// from /proc while the process is still writing its last 4 MiB (it cannot
// end before they are read); getrusage's maxrss of a child would include
// the test binary's own RSS, which the vforked child inherits.
func TestLogsMemoryBoundedByLine(t *testing.T) {
	home := bigLineHome(t)
	plain := plainBinary(t)
	for _, c := range []struct {
		args []string
		min  int // bytes of output; exact unless JSON
	}{
		{nil, bigRaw},
		{[]string{"-t"}, bigText},
		{[]string{"-t", "--tail", "2"}, bigText},
		{[]string{"--json"}, bigJSONMin},
	} {
		cmd := exec.Command(plain, append(append([]string{"logs", "--home", home}, c.args...), "big")...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		head, err := io.CopyN(io.Discard, stdout, int64(c.min-4<<20))
		if err != nil {
			t.Fatalf("logs %v: %d bytes: %v", c.args, head, err)
		}
		peak := vmHWM(t, cmd.Process.Pid)
		rest, err := io.Copy(io.Discard, stdout)
		if err := errors.Join(err, cmd.Wait()); err != nil {
			t.Fatalf("logs %v: %v", c.args, err)
		}
		if n := int(head + rest); n < c.min || (c.args == nil || c.args[0] == "-t") && n != c.min {
			t.Errorf("logs %v: %d bytes, want %d", c.args, n, c.min)
		}
		t.Logf("logs %v: peak RSS %d MiB for %d bytes", c.args, peak>>20, head+rest)
		if peak > 128<<20 {
			t.Errorf("logs %v: peak RSS %d MiB, want at most 128 MiB", c.args, peak>>20)
		}
	}
}

// TestMountMemoryBoundedByLine: bigLineHome's line is served by every view
// of a real mount — read whole with cat, and through merged.follow — with
// the mount's peak RSS (VmHWM) within 128 MiB. The mount runs with
// --daemon, from plainBinary.
func TestMountMemoryBoundedByLine(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing")
	}
	home := bigLineHome(t)
	plain := plainBinary(t)
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
	for _, c := range []struct {
		cmd  string
		want int
	}{
		{"cat stdout", bigRaw},
		{"cat merged.jsonl", -1},
		{"cat merged", bigText},
		{"cat merged", bigText}, // again: the chunk is past the render cache's bound
		{"cat output system", 0},
		{fmt.Sprintf("head -c %d merged.follow", bigText), bigText},
	} {
		got := sh(t, 60*time.Second, fmt.Sprintf("cd %s && %s | wc -c", q(filepath.Join(dir, "big")), c.cmd))
		n, err := strconv.Atoi(strings.TrimSpace(got))
		if err != nil || (c.want >= 0 && n != c.want) || (c.want < 0 && n < bigJSONMin) {
			t.Errorf("%s: %q bytes, want %d", c.cmd, got, c.want)
		}
		peak := vmHWM(t, pid)
		t.Logf("%s: %d bytes, mount peak RSS %d MiB", c.cmd, n, peak>>20)
		if peak > 128<<20 {
			t.Errorf("after %s: mount peak RSS %d MiB, want at most 128 MiB", c.cmd, peak>>20)
		}
	}
}
