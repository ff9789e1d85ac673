package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/bench/internal/table"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// bigName is the big sandbox's name, bigRotate its exec.log rotation size.
const (
	bigName   = "big"
	bigRotate = 40 << 20
	bigSeed   = 1
)

// bench is one run: its settings, scratch directory, binaries and table.
type bench struct {
	cfg  *config
	work string            // scratch, removed at the end
	bins map[string]string // binary name → path
	home string            // the big sandbox's home, under cfg.dir
	t    table.Table

	// The references other parts' ratios use, in seconds (0: not taken).
	catSecs, jqSecs float64 // cat and jq of the exec files (cli)
	diskStat        float64 // stat(1) of exec.log on disk
}

// run builds, measures every part asked for, and prints the table.
func run(ctx context.Context, cfg *config) (bool, error) {
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return false, fmt.Errorf("work directory: %w", err)
	}
	work, err := os.MkdirTemp("", "msb-logfs-bench.")
	if err != nil {
		return false, err
	}
	b := &bench{cfg: cfg, work: work, bins: map[string]string{}, home: filepath.Join(cfg.dir, "home")}
	defer b.cleanup()
	if err := b.build(); err != nil {
		return false, err
	}
	if err := b.bigCorpus(); err != nil {
		return false, err
	}
	b.header()
	if cfg.has("mount") || cfg.has("cold") {
		b.diskStatRow(ctx)
	}
	for _, p := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"cli", b.cli}, {"mount", b.mount}, {"cold", b.cold}, {"engine", b.engine},
		{"latency", b.latency}, {"idle", b.idle}, {"many", b.many}, {"sessions", b.sessions},
		{"ship", b.ship}, {"walk", b.walk},
	} {
		if !cfg.has(p.name) {
			continue
		}
		log.Printf("== %s", p.name)
		if err := p.run(ctx); err != nil {
			if ctx.Err() != nil {
				return false, benchmount.ErrInterrupted
			}
			b.t.Fail(p.name, err)
		}
	}
	return b.t.Failed() == 0, b.report()
}

// build builds msb-logfs (unless -bin names one) and the bench commands
// the run uses.
func (b *bench) build() error {
	dir := filepath.Join(b.work, "bin")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	bin, err := benchmount.Binary(b.cfg.bin, dir)
	if err != nil {
		return err
	}
	b.bins["msb-logfs"] = bin
	for _, cmd := range []string{"loopback", "latency", "idle", "many", "sessions", "ship"} {
		if !b.needs(cmd) {
			continue
		}
		out := filepath.Join(dir, cmd)
		build := exec.Command("go", "build", "-o", out, "github.com/microsandbox/msb-logfs/bench/"+cmd)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build ./bench/%s (run from inside the module): %w", cmd, err)
		}
		b.bins[cmd] = out
	}
	return nil
}

// needs reports whether a part of the run uses the bench command cmd.
func (b *bench) needs(cmd string) bool {
	if cmd == "loopback" {
		return b.cfg.has("mount") || b.cfg.has("walk")
	}
	return b.cfg.has(cmd)
}

// bigCorpus writes the big sandbox into cfg.dir/home unless the corpus
// there is already the one asked for.
func (b *bench) bigCorpus() error {
	marker := filepath.Join(b.home, ".msb-loggen-done")
	want := fmt.Sprintf("size=%s rotate=%d seed=%d name=%s", b.cfg.size, bigRotate, bigSeed, bigName)
	if got, err := os.ReadFile(marker); err == nil && string(got) == want {
		return nil
	}
	log.Printf("generating the corpus in %s (%s)", b.home, want)
	if err := os.RemoveAll(b.home); err != nil {
		return err
	}
	opts := msbwriter.CorpusOptions{TotalBytes: b.cfg.sizeBytes, RotateAt: bigRotate, Seed: bigSeed}
	if err := msbwriter.GenerateCorpus(b.home, bigName, opts); err != nil {
		return err
	}
	return os.WriteFile(marker, []byte(want), 0o644)
}

// header describes the run above the table.
func (b *bench) header() {
	rev := "no commit"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		rev = strings.TrimSpace(string(out))
		if exec.Command("git", "diff", "--quiet", "HEAD").Run() != nil {
			rev += "+dirty"
		}
	}
	b.t.Header = append(b.t.Header,
		fmt.Sprintf("rev %s, %s, %s, %d CPUs, load average %s", rev, runtime.Version(), uname(), runtime.NumCPU(), loadAverage()),
		fmt.Sprintf("parts: %s; big sandbox %s: %s of exec.log rotated at %d MiB", strings.Join(b.cfg.only, ","), b.logs(), b.cfg.size, bigRotate>>20),
		fmt.Sprintf("page cache warm; best of %d run(s) where repeated; MB = 10^6 bytes", b.cfg.repeat),
		"ratio \"Nx ref\": this time / ref's time (above 1: slower); \"Nx ref's speed\": this speed / ref's (above 1: faster)",
		"the machine may be shared: compare the ratios of one run, not times across runs")
}

// logs is the big sandbox's logs directory.
func (b *bench) logs() string { return msbwriter.LogsDir(b.home, bigName) }

// report prints the table and appends it to results.txt.
func (b *bench) report() error {
	if err := b.t.Write(os.Stdout); err != nil {
		return err
	}
	results := filepath.Join(b.cfg.dir, "results.txt")
	if err := b.t.Append(results); err != nil {
		return err
	}
	fmt.Printf("\n(appended to %s)\n", results)
	return nil
}

// cleanup unmounts whatever a part left mounted under the scratch
// directory, then removes it, never descending into a mount.
func (b *bench) cleanup() {
	left := benchmount.UnmountUnder(b.work)
	if left {
		log.Printf("something is still mounted under %s: leaving it", b.work)
		return
	}
	if err := os.RemoveAll(b.work); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Printf("clean up: %v", err)
	}
}

// uname is the kernel's name and release.
func uname() string {
	out, err := exec.Command("uname", "-sr").Output()
	if err != nil {
		return "unknown kernel"
	}
	return strings.TrimSpace(string(out))
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
