package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// engineBenchmarks are the engine's go test benchmarks of the table; each
// has a …Serial twin without parse-ahead (what GOMAXPROCS=1 runs), except
// StatCold.
var engineBenchmarks = []string{"ReadStdout", "ReadMerged", "IndexBuild", "StatCold"}

// engine runs the engine's benchmarks over a corpus of -engine-mb MiB,
// each with parse-ahead and then without, in one test binary run per
// package of ./engine/...: the ratio is the parse-ahead's gain.
func (b *bench) engine(ctx context.Context) error {
	dir := filepath.Join(b.work, "engine-tests")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", dir+"/", "./engine/...")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("the engine benchmarks do not build: %w", err)
	}
	bins, err := filepath.Glob(filepath.Join(dir, "*.test"))
	if err != nil || len(bins) == 0 {
		return fmt.Errorf("go test -c ./engine/... made no test binary")
	}
	var out strings.Builder
	for _, bin := range bins {
		if err := b.runEngineTests(ctx, bin, &out); err != nil {
			return err
		}
	}
	return b.engineRows(out.String())
}

// runEngineTests runs the benchmarks of one test binary, in the source
// directory of its package, appending their output to out.
func (b *bench) runEngineTests(ctx context.Context, bin string, out *strings.Builder) error {
	pkg := strings.TrimSuffix(filepath.Base(bin), ".test")
	ctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
	defer cancel()
	pattern := "^Benchmark(" + strings.Join(engineBenchmarks, "|") + ")(Serial)?$"
	cmd := exec.CommandContext(ctx, bin, "-test.run=^$", "-test.benchtime=3x", "-test.bench="+pattern)
	cmd.Dir = b.engineDir(pkg)
	cmd.Env = append(os.Environ(), "MSB_BENCH_MB="+strconv.Itoa(b.cfg.engineMB))
	data, err := cmd.CombinedOutput()
	out.Write(data)
	if err != nil {
		return fmt.Errorf("engine benchmarks of %s failed: %w: %s", pkg, err, lastLines(string(data), 3))
	}
	return nil
}

// engineDir is the source directory of the engine package pkg ("engine"
// is ./engine; any other, the directory of that name under it).
func (b *bench) engineDir(pkg string) string {
	if pkg == "engine" {
		return "engine"
	}
	matches, _ := filepath.Glob(filepath.Join("engine", "*", pkg))
	matches2, _ := filepath.Glob(filepath.Join("engine", "*", "*", pkg))
	if m := append(matches, matches2...); len(m) > 0 {
		return m[0]
	}
	return "engine"
}

// engineRows reads `go test -bench` output into rows.
func (b *bench) engineRows(out string) error {
	found := 0
	for _, name := range engineBenchmarks {
		ns, mbs, ok := benchLine(out, "Benchmark"+name+"-")
		if !ok {
			continue
		}
		found++
		serial, _, _ := benchLine(out, "Benchmark"+name+"Serial-")
		b.t.Add(table.Row{Name: "engine: " + name, Secs: ns / 1e9, Bytes: int64(mbs * ns / 1e3),
			Ratio: table.Ratio(serial, ns, "serial's speed")})
	}
	if found == 0 {
		return fmt.Errorf("no engine benchmark ran (want %s): %s", strings.Join(engineBenchmarks, ", "), lastLines(out, 3))
	}
	return nil
}

// benchLine finds the line of a benchmark and returns its ns/op and MB/s.
func benchLine(out, prefix string) (ns, mbs float64, ok bool) {
	for l := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[0], prefix) || f[3] != "ns/op" {
			continue
		}
		ns, err := strconv.ParseFloat(f[2], 64)
		if err != nil || ns <= 0 {
			return 0, 0, false
		}
		if len(f) >= 6 && f[5] == "MB/s" {
			mbs, _ = strconv.ParseFloat(f[4], 64)
		}
		return ns, mbs, true
	}
	return 0, 0, false
}

// lastLines is the last n lines of s on one line.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
