package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

const word = "zebracorn"

// grep times grep -r over the mount and over the logs directories, and
// takes the mount's fds and memory after it.
func (r *runner) grep() error {
	home := filepath.Join(r.dir, "grep-home")
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: r.cfg.sandboxes, Word: word})
	if err != nil {
		return err
	}
	if _, _, err := timeCmd("grep", "-rl", word, filepath.Join(home, "sandboxes")); err != nil { // warms the page cache
		return fmt.Errorf("grep -r over the logs directories: %w", err)
	}
	ref, refOut, err := timeCmd("grep", "-rl", word, filepath.Join(home, "sandboxes"))
	if err != nil {
		return err
	}
	m, mnt, err := r.mount("grep", home, names[0], []string{"prlimit", "--nofile=1024:1024"})
	if err != nil {
		return err
	}
	defer m.Stop(syscall.SIGINT)
	pid := m.Pid()
	cpu0, _ := benchmount.CPUSeconds(pid)
	took, out, err := timeCmd("grep", "-rl", word, mnt)
	if err != nil {
		r.fail("grep -r over the mount: %v", err)
	}
	cpu1, _ := benchmount.CPUSeconds(pid)
	// The word is in one exec chunk of each sandbox, which has a session
	// id: merged, merged.jsonl and stdout match, in the sandbox directory
	// and in its session's.
	inSessions := bytes.Count(out, []byte("/sessions/"))
	if got, want := bytes.Count(out, []byte("\n"))-inSessions, 3*len(names); got != want || inSessions != want {
		r.fail("grep -r over the mount: %d sandbox files and %d session files match, want %d of each", got, inSessions, want)
	}
	r.kv.Add("grep_sandboxes", len(names))
	r.kv.Add("grep_mount_cpu_s", cpu1-cpu0)
	r.kv.Add("grep_ref_s", ref.Seconds())
	r.kv.Add("grep_ref_files", bytes.Count(refOut, []byte("\n")))
	r.kv.Add("grep_mount_s", took.Seconds())
	r.kv.Add("grep_ratio", took.Seconds()/ref.Seconds())
	r.kv.Add("grep_fds_after", benchmount.FDCount(pid))
	r.kv.Add("grep_rss_kib_after", benchmount.StatusField(pid, "VmRSS"))
	r.report.line("grep -r over %d sandboxes: mount %v (its CPU %.2fs), logs dirs %v (%.1fx); right after: %d fds, VmRSS %d KiB",
		len(names), took.Round(time.Millisecond), cpu1-cpu0, ref.Round(time.Millisecond), took.Seconds()/ref.Seconds(),
		benchmount.FDCount(pid), benchmount.StatusField(pid, "VmRSS"))
	select {
	case <-time.After(r.cfg.idle):
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
	fds, rss, hwm := benchmount.FDCount(pid), benchmount.StatusField(pid, "VmRSS"), benchmount.StatusField(pid, "VmHWM")
	r.kv.Add("grep_fds_idle", fds)
	r.kv.Add("grep_rss_kib_idle", rss)
	r.kv.Add("grep_hwm_kib", hwm)
	r.report.line("  %v later: %d fds, VmRSS %d KiB; peak VmHWM %d KiB (limit 1024 fds)", r.cfg.idle, fds, rss, hwm)
	return nil
}

// cacheBudget reads every view of a big sandbox twice through a mount with
// a small --cache-size and takes the most the cache held on disk.
func (r *runner) cacheBudget() error {
	home := filepath.Join(r.dir, "cache-home")
	size, err := msbwriter.ParseSize(r.cfg.big)
	if err != nil {
		return err
	}
	budget, err := msbwriter.ParseSize(r.cfg.cache)
	if err != nil {
		return err
	}
	if err := msbwriter.GenerateCorpus(home, "big", msbwriter.CorpusOptions{TotalBytes: size, RotateAt: size / 4, Seed: 1}); err != nil {
		return err
	}
	cacheDir := filepath.Join(r.dir, "cache")
	if err := os.Mkdir(cacheDir, 0o755); err != nil {
		return err
	}
	m, mnt, err := r.mount("cache", home, "big", nil, "--cache-dir", cacheDir, "--cache-size", r.cfg.cache)
	if err != nil {
		return err
	}
	defer m.Stop(syscall.SIGINT)
	// The saved indexes live beside the render cache, with a bound of
	// their own (an eighth of the budget): each is measured against its own.
	indexDir := filepath.Join(cacheDir, engine.IndexDirName)
	var most, mostIndex, read int64
	start := time.Now()
	for range 2 {
		for _, v := range []string{"merged", "merged.jsonl", "stdout", "stderr", "output", "system"} {
			n, err := drain(filepath.Join(mnt, "big", v))
			if err != nil {
				return err
			}
			read += n
			index := allocatedUnder(indexDir)
			most = max(most, allocatedUnder(cacheDir)-index)
			mostIndex = max(mostIndex, index)
		}
	}
	r.kv.Add("cache_budget_bytes", budget)
	r.kv.Add("cache_most_bytes", most)
	r.kv.Add("cache_index_most_bytes", mostIndex)
	r.kv.Add("cache_views_bytes", read/2)
	r.report.line("cache: --cache-size %s, every view of a %s sandbox read twice (%d MiB, %v): the render cache held at most %.1f MiB on disk, the saved indexes %.1f MiB",
		r.cfg.cache, r.cfg.big, read>>20, time.Since(start).Round(time.Millisecond), float64(most)/(1<<20), float64(mostIndex)/(1<<20))
	if most > budget+(512<<10) {
		r.fail("the render cache held %d bytes, over the budget %d and one chunk", most, budget)
	}
	if mostIndex > budget/8 {
		r.fail("the saved indexes held %d bytes, over their bound %d (budget/8)", mostIndex, budget/8)
	}
	return nil
}

// tree times a mount of many sandboxes to ready, ls and ls -l of its root.
func (r *runner) tree() error {
	home := filepath.Join(r.dir, "tree-home")
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: r.cfg.tree, Lines: 10, Word: word})
	if err != nil {
		return err
	}
	start := time.Now()
	m, mnt, err := r.mount("tree", home, names[len(names)-1], nil)
	if err != nil {
		return err
	}
	defer m.Stop(syscall.SIGINT)
	ready := time.Since(start)
	ls, out, err := timeCmd("ls", mnt)
	if err != nil || bytes.Count(out, []byte("\n")) != len(names) {
		r.fail("ls of %d sandboxes: %v, %d lines", len(names), err, bytes.Count(out, []byte("\n")))
	}
	cpu0, _ := benchmount.CPUSeconds(m.Pid())
	lsl, out, err := timeCmd("ls", "-l", mnt)
	cpu1, _ := benchmount.CPUSeconds(m.Pid())
	if err != nil || bytes.Count(out, []byte("\n")) != len(names)+1 {
		r.fail("ls -l of %d sandboxes: %v, %d lines", len(names), err, bytes.Count(out, []byte("\n")))
	}
	r.kv.Add("tree_sandboxes", len(names))
	r.kv.Add("tree_ready_s", ready.Seconds())
	r.kv.Add("tree_ls_s", ls.Seconds())
	r.kv.Add("tree_lsl_s", lsl.Seconds())
	r.kv.Add("tree_lsl_cpu_s", cpu1-cpu0)
	r.report.line("%d sandboxes: mount ready %v, ls %v, ls -l %v (the mount's CPU %.2fs)", len(names),
		ready.Round(time.Millisecond), ls.Round(time.Millisecond), lsl.Round(time.Millisecond), cpu1-cpu0)
	return nil
}

// timeCmd runs a command and returns how long it took and its output.
func timeCmd(name string, args ...string) (time.Duration, []byte, error) {
	start := time.Now()
	out, err := exec.Command(name, args...).Output()
	return time.Since(start), out, err
}

// drain reads a file to its end and returns its length.
func drain(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		c, err := f.Read(buf)
		n += int64(c)
		if c == 0 || err != nil {
			return n, nil
		}
	}
}

// allocatedUnder sums what the files under dir hold on disk.
func allocatedUnder(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		var st syscall.Stat_t
		if err == nil && !d.IsDir() && syscall.Lstat(p, &st) == nil {
			total += st.Blocks * 512
		}
		return nil
	})
	return total
}

// report is the human-readable output.
type report struct{ b strings.Builder }

func (r *report) line(format string, args ...any) { fmt.Fprintf(&r.b, format+"\n", args...) }
func (r *report) String() string                  { return r.b.String() }
