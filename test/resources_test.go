package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestGrepManySandboxesUnderFDLimit: grep -r over 2,000 sandboxes through a
// mount limited to 1,024 descriptors finds every match without an error;
// idle afterwards, the mount gives its descriptors and memory back.
func TestGrepManySandboxesUnderFDLimit(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("prlimit (util-linux) is needed to limit the mount's descriptors")
	}
	home := t.TempDir()
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: 2000, Word: "zebracorn"})
	if err != nil {
		t.Fatal(err)
	}
	// The plain build: the race detector's shadow memory would hide what
	// the mount itself holds.
	m := mountVia(t, []string{"prlimit", "--nofile=1024:1024"}, plainBinary(t), home, filepath.Join(t.TempDir(), "mnt"))
	pid := m.cmd.Process.Pid
	if lim := procLimit(t, pid, "Max open files"); lim != "1024" {
		t.Fatalf("the mount's descriptor limit is %q, want 1024", lim)
	}

	start := time.Now()
	out, errOut, err := shErr(120*time.Second, "grep -rl zebracorn "+q(m.dir))
	took := time.Since(start)
	if err != nil {
		t.Fatalf("grep -r: %v\nstderr: %s", err, firstLines(errOut, 5))
	}
	var want []string
	for _, n := range names {
		for _, f := range []string{"merged", "merged.jsonl", "stdout"} {
			want = append(want, m.path(n, f), m.path(n, "sessions", "1", f)) // its one session's too
		}
	}
	sort.Strings(want)
	got := lines([]byte(out))
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("grep -rl found %d files, want %d (merged, merged.jsonl, stdout of each sandbox and of its session); first: %q", len(got), len(want), firstLines(out, 3))
	}
	t.Logf("grep -r over %d sandboxes: %v; fds %d, VmRSS %d KiB right after", len(names), took, fdCount(t, pid), procStatus(t, pid, "VmRSS"))

	idle := waitFor(t, 20*time.Second, "the mount's fds <= 64 and VmRSS <= 128 MiB", func() bool {
		return fdCount(t, pid) <= 64 && procStatus(t, pid, "VmRSS") <= 128<<10
	})
	hwm := procStatus(t, pid, "VmHWM")
	t.Logf("idle after %v: fds %d, VmRSS %d KiB, VmHWM %d KiB", idle, fdCount(t, pid), procStatus(t, pid, "VmRSS"), hwm)
	if hwm > 256<<10 {
		t.Fatalf("peak RSS (VmHWM) %d KiB, want at most 256 MiB", hwm)
	}
}

// TestSmallCacheBudgetThroughMount: with --cache-size smaller than one
// view, every view of a sandbox of a few MiB reads, twice, the bytes
// `msb-logfs logs` prints, and the cache directory holds at most the
// budget and one chunk on disk.
func TestSmallCacheBudgetThroughMount(t *testing.T) {
	const budget = 256 << 10
	home := corpusHome(t, "big", 6<<20)
	cacheDir := t.TempDir()
	m := mount(t, home, "--cache-dir", cacheDir, "--cache-size", "256KiB")
	ownDir := filepath.Join(cacheDir, "msb-logfs-cache."+strconv.Itoa(m.cmd.Process.Pid))
	views := map[string][]string{
		"merged":       {"--source", "all", "--timestamps"},
		"merged.jsonl": {"--source", "all", "--json"},
		"stdout":       {"--source", "stdout"},
		"stderr":       {"--source", "stderr"},
		"output":       {"--source", "output"},
		"system":       {"--source", "system", "--timestamps"},
	}
	// The most the cache held right after a read: idle release (a few
	// seconds without a handle) may empty it between two views.
	var most int64
	for file, args := range views {
		want := logsOutput(t, home, "big", args...)
		for pass := range 2 {
			got := mustRead(t, m.path("big", file))
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, pass %d: %d bytes through the mount, `logs %s` prints %d", file, pass, len(got), strings.Join(args, " "), len(want))
			}
			disk := allocatedUnder(t, ownDir)
			if disk > budget+maxChunk {
				t.Fatalf("%s, pass %d: the cache holds %d bytes on disk, budget %d", file, pass, disk, budget)
			}
			most = max(most, disk)
		}
	}
	if most == 0 {
		t.Fatal("the cache never held anything: the budget was not exercised")
	}
	if _, err := m.signal(syscall.SIGINT, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ownDir); !os.IsNotExist(err) {
		t.Fatalf("after a clean exit the cache directory is still there (%v)", err)
	}
}

// TestCacheSizeRejectsJunk: a bad --cache-size is a one-line usage error.
func TestCacheSizeRejectsJunk(t *testing.T) {
	for _, bad := range []string{"lots", "-5MiB", "12XB", "1.2.3G"} {
		cmd := exec.Command(binary, "mount", "--home", t.TempDir(), "--cache-size", bad, filepath.Join(t.TempDir(), "mnt"))
		out, err := cmd.CombinedOutput()
		if code := exitCode(err); code != 2 || bytes.Count(bytes.TrimSpace(out), []byte("\n")) != 0 || !bytes.Contains(out, []byte("--cache-size")) {
			t.Fatalf("--cache-size %s: exit %d, output %q; want 2 and one line naming the flag", bad, code, out)
		}
	}
}

// logsOutput runs `msb-logfs logs` and returns what it prints.
func logsOutput(t *testing.T, home, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(binary, append(append([]string{"logs", "--home", home}, args...), name)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("logs %v: %v: %s", args, err, stderr.String())
	}
	return out
}

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	return strings.Join(l[:min(n, len(l))], "\n")
}

// exitCode returns a command's exit status (0 for a nil error, -1 when it
// did not run).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// maxChunk bounds one render-cache chunk of the corpus (checkpoints every
// 48 KiB of input; a rendered chunk of merged.jsonl is a few times that).
const maxChunk = 512 << 10

// TestListingTreeTouchesNoSandbox: `ls -l` and `stat` of every sandbox
// directory work by stat alone: the mount opens no log file and watches
// no sandbox for them (each watch would mean a sandbox made and kept).
func TestListingTreeTouchesNoSandbox(t *testing.T) {
	home := t.TempDir()
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: 300, Lines: 5, Word: "w"})
	if err != nil {
		t.Fatal(err)
	}
	m := mount(t, home)
	out := sh(t, 30*time.Second, "ls -l "+q(m.dir)+" && stat -c '%n %F' "+q(m.dir)+"/*")
	if n := strings.Count(out, "directory"); n != len(names) {
		t.Fatalf("stat saw %d directories, want %d", n, len(names))
	}
	pid := m.cmd.Process.Pid
	if files := fdsUnder(t, pid, home); len(files) != 0 {
		t.Fatalf("the mount holds %d files of the home open after ls -l: %v", len(files), files[:min(3, len(files))])
	}
	if w := inotifyWatches(t, pid); w > 2 {
		t.Fatalf("the mount watches %d paths after ls -l of %d sandboxes, want at most 2 (the home and its sandboxes dir)", w, len(names))
	}
}
