// Package main is the many command. It measures what a host with many
// sandboxes costs msb-logfs (issue 8), each figure through a real mount of
// its own:
//
//   - grep: -sandboxes small sandboxes, `grep -r WORD` over the mount (run
//     under prlimit --nofile=1024:1024) against `grep -r WORD` over their
//     logs directories in the same run; every match must be found; then
//     the mount's descriptors and memory right after and -idle later.
//   - cache: one sandbox of -big bytes of exec.log mounted with
//     --cache-size -cache; every view read twice; the most the cache
//     directory held on disk (what du counts).
//   - tree: -tree small sandboxes; how long the mount takes to be ready,
//     `ls` of its root and `ls -l` of its root.
//
// Usage:
//
//	many [-bin msb-logfs] [-sandboxes 2000] [-idle 15s] [-big 64MiB]
//	     [-cache 16MiB] [-tree 10000] [-kv FILE]
//
// It exits 1 if a check fails (a match missing, grep failing, the cache
// over its budget and one chunk).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
)

type config struct {
	bin        string
	sandboxes  int
	idle       time.Duration
	big, cache string
	tree       int
	kv         string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.sandboxes, "sandboxes", 2000, "small sandboxes that grep -r walks")
	flag.DurationVar(&cfg.idle, "idle", 15*time.Second, "how long after the grep the mount's fds and RSS are taken again")
	flag.StringVar(&cfg.big, "big", "64MiB", "exec.log bytes of the sandbox whose views fill the cache")
	flag.StringVar(&cfg.cache, "cache", "16MiB", "--cache-size of that mount")
	flag.IntVar(&cfg.tree, "tree", 10000, "small sandboxes of the tree figures (mount ready, ls, ls -l)")
	common := benchmount.ParseFlags("many", "", func() error {
		if cfg.sandboxes <= 0 || cfg.tree <= 0 || cfg.idle < 0 {
			return fmt.Errorf("-sandboxes %d -tree %d -idle %v: want sandboxes above 0 and an idle time of 0 or more", cfg.sandboxes, cfg.tree, cfg.idle)
		}
		return nil
	})
	cfg.bin, cfg.kv = common.Bin, common.KV
	benchmount.Main(func(ctx context.Context) (bool, error) { return run(ctx, cfg) })
}

// run makes a temporary directory, runs the three parts in it, prints
// their figures and removes it.
func run(ctx context.Context, cfg config) (bool, error) {
	dir, bin, err := benchmount.Workdir("msb-logfs-many.", cfg.bin)
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	r := &runner{ctx: ctx, cfg: cfg, dir: dir, bin: bin, ok: true}
	for _, part := range []func() error{r.grep, r.cacheBudget, r.tree} {
		if err := part(); err != nil {
			return false, err
		}
	}
	fmt.Print(r.report.String())
	return r.ok, r.kv.WriteFile(cfg.kv)
}

// runner holds one run's state and figures.
type runner struct {
	ctx    context.Context
	cfg    config
	dir    string
	bin    string
	kv     benchmount.KV
	report report
	ok     bool
}

// fail records a failed check.
func (r *runner) fail(format string, args ...any) {
	r.ok = false
	r.report.line("FAILED: "+format, args...)
}

// mount starts a mount of home named part, ready when ready exists in it.
func (r *runner) mount(part, home, ready string, prefix []string, flags ...string) (*benchmount.Mount, string, error) {
	mnt := filepath.Join(r.dir, "mnt-"+part)
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return nil, "", err
	}
	m, err := benchmount.StartMount(r.ctx, benchmount.Spec{Bin: r.bin, Home: home, Mnt: mnt,
		LogPath: filepath.Join(r.dir, part+".log"), Ready: filepath.Join(mnt, ready), Prefix: prefix, Flags: flags})
	return m, mnt, err
}
