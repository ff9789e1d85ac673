// Package main is the sessions command. It measures, through a real mount,
// what the per-session directories of issue 11 cost on a large sandbox
// with many sessions (written beforehand, e.g. by msb-loggen -sessions):
//
//   - ls: `ls <sandbox>/sessions/` once right after the mount (the index is
//     built then) and -repeat times warm; the median and the best.
//   - cat: `cat sessions/<id>/stdout` of the smallest session that wrote to
//     stdout against `cat stdout` of the whole sandbox, both warm, best of
//     -repeat and of 3; the ratio of the two times.
//
// Usage:
//
//	sessions -home DIR [-name big] [-bin msb-logfs] [-repeat 20] [-kv FILE]
//
// It exits 1 if a check fails (ls does not list every session, the
// session's stdout is not smaller than the sandbox's).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
)

type config struct {
	bin, home, name string
	repeat          int
	kv              string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.home, "home", "", "microsandbox home that holds the sandbox (required)")
	flag.StringVar(&cfg.name, "name", "big", "the sandbox")
	flag.IntVar(&cfg.repeat, "repeat", 20, "warm runs of each timed command")
	common := benchmount.ParseFlags("sessions", "", func() error {
		if cfg.home == "" || cfg.repeat <= 0 {
			return fmt.Errorf("-home %q -repeat %d: want a home and a repeat above 0", cfg.home, cfg.repeat)
		}
		return nil
	})
	cfg.bin, cfg.kv = common.Bin, common.KV
	benchmount.Main(func(ctx context.Context) (bool, error) { return run(ctx, cfg) })
}

// run mounts the home in a temporary directory, measures and unmounts.
func run(ctx context.Context, cfg config) (bool, error) {
	dir, bin, err := benchmount.Workdir("msb-logfs-sessions.", cfg.bin)
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return false, err
	}
	m, err := benchmount.StartMount(ctx, benchmount.Spec{Bin: bin, Home: cfg.home, Mnt: mnt,
		LogPath: filepath.Join(dir, "mount.log"), Ready: filepath.Join(mnt, cfg.name),
		Flags: []string{"--cache-dir", filepath.Join(dir, "cache")}})
	if err != nil {
		return false, err
	}
	defer m.Stop(syscall.SIGINT)
	r := &runner{cfg: cfg, sandbox: filepath.Join(mnt, cfg.name), ok: true}
	if err := r.ls(); err != nil {
		return false, err
	}
	if err := r.cat(); err != nil {
		return false, err
	}
	fmt.Print(r.report.String())
	return r.ok, r.kv.WriteFile(cfg.kv)
}

// runner holds one run's state and figures.
type runner struct {
	cfg     config
	sandbox string   // its directory in the mount
	ids     []string // the names ls listed
	kv      benchmount.KV
	report  strings.Builder
	ok      bool
}

func (r *runner) line(format string, args ...any) { fmt.Fprintf(&r.report, format+"\n", args...) }

func (r *runner) fail(format string, args ...any) {
	r.ok = false
	r.line("FAILED: "+format, args...)
}

// ls times ls of the sessions directory: the first one, then warm.
func (r *runner) ls() error {
	dir := filepath.Join(r.sandbox, "sessions")
	first, out, err := timeCmd("ls", dir)
	if err != nil {
		return fmt.Errorf("ls %s: %w", dir, err)
	}
	r.ids = strings.Fields(string(out))
	var warm []time.Duration
	for range r.cfg.repeat {
		d, again, err := timeCmd("ls", dir)
		if err != nil || !bytes.Equal(again, out) {
			r.fail("warm ls of sessions/: %v, %d names, first %d", err, len(strings.Fields(string(again))), len(r.ids))
		}
		warm = append(warm, d)
	}
	slices.Sort(warm)
	median := benchmount.Percentile(warm, 0.5)
	r.kv.Add("sessions", len(r.ids))
	r.kv.Add("ls_first_s", first.Seconds())
	r.kv.Add("ls_warm_p50_s", median.Seconds())
	r.kv.Add("ls_warm_min_s", warm[0].Seconds())
	r.line("ls sessions/ (%d sessions): first %v (builds the index), warm median %v, best %v of %d",
		len(r.ids), first.Round(time.Millisecond), median.Round(time.Microsecond), warm[0].Round(time.Microsecond), len(warm))
	if len(r.ids) == 0 {
		r.fail("no sessions listed: was the sandbox written with many sessions (msb-loggen -sessions)?")
	}
	return nil
}

// info is the part of a session's info file that picks the session.
type info struct {
	ID      uint64   `json:"id"`
	Sources []string `json:"sources"`
	Bytes   int64    `json:"bytes"`
}

// smallest returns the session with the fewest bytes that wrote to stdout.
func (r *runner) smallest() (info, error) {
	var best info
	for _, id := range r.ids {
		data, err := os.ReadFile(filepath.Join(r.sandbox, "sessions", id, "info"))
		if err != nil {
			return info{}, err
		}
		var i info
		if err := json.Unmarshal(data, &i); err != nil {
			return info{}, fmt.Errorf("sessions/%s/info: %w", id, err)
		}
		if slices.Contains(i.Sources, "stdout") && (best.Bytes == 0 || i.Bytes < best.Bytes) {
			best = i
		}
	}
	if best.Bytes == 0 {
		return info{}, fmt.Errorf("no session wrote to stdout")
	}
	return best, nil
}

// cat times cat of the smallest session's stdout and of the sandbox's.
func (r *runner) cat() error {
	small, err := r.smallest()
	if err != nil {
		return err
	}
	session := filepath.Join(r.sandbox, "sessions", fmt.Sprint(small.ID), "stdout")
	whole := filepath.Join(r.sandbox, "stdout")
	sessFirst, sessBest, sessBytes, err := bestCat(session, r.cfg.repeat)
	if err != nil {
		return err
	}
	_, wholeBest, wholeBytes, err := bestCat(whole, 3)
	if err != nil {
		return err
	}
	if sessBytes == 0 || sessBytes >= wholeBytes {
		r.fail("session %d's stdout has %d bytes, the sandbox's %d", small.ID, sessBytes, wholeBytes)
	}
	ratio := wholeBest.Seconds() / sessBest.Seconds()
	r.kv.Add("small_session", small.ID)
	r.kv.Add("small_bytes", sessBytes)
	r.kv.Add("cat_session_first_s", sessFirst.Seconds())
	r.kv.Add("cat_session_s", sessBest.Seconds())
	r.kv.Add("cat_sandbox_bytes", wholeBytes)
	r.kv.Add("cat_sandbox_s", wholeBest.Seconds())
	r.kv.Add("cat_ratio", ratio)
	r.line("cat sessions/%d/stdout (%d bytes): first %v, best %v; cat stdout (%d bytes): best %v; %.0fx faster",
		small.ID, sessBytes, sessFirst.Round(time.Microsecond), sessBest.Round(time.Microsecond),
		wholeBytes, wholeBest.Round(time.Millisecond), ratio)
	return nil
}

// bestCat runs cat of path, its output to /dev/null, n+1 times; it
// returns the first run's time, the best of the others and the file's
// size (which stat gives exactly).
func bestCat(path string, n int) (first, best time.Duration, size int64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, 0, err
	}
	size = fi.Size()
	for i := range n + 1 {
		start := time.Now()
		if err := exec.Command("cat", path).Run(); err != nil {
			return 0, 0, 0, fmt.Errorf("cat %s: %w", path, err)
		}
		d := time.Since(start)
		switch {
		case i == 0:
			first = d
		case i == 1 || d < best:
			best = d
		}
	}
	return first, best, size, nil
}

// timeCmd runs a command and returns how long it took and its output.
func timeCmd(name string, args ...string) (time.Duration, []byte, error) {
	start := time.Now()
	out, err := exec.Command(name, args...).Output()
	return time.Since(start), out, err
}
