package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// parts are the parts of a run, in the order they run.
var parts = []string{"cli", "mount", "cold", "engine", "latency", "idle", "many", "sessions", "ship", "walk"}

// config is one run's settings.
type config struct {
	dir, bin, size  string
	otelcol         string
	sizeBytes       int64
	repeat          int
	timeout         time.Duration
	only            []string
	latencyRate     int
	latencyDuration time.Duration
	idleReaders     int
	idleMeasure     time.Duration
	manySandboxes   int
	manyTree        int
	engineMB        int
	sessions        int
	walkSandboxes   int
	walkStats       int
	scaleSandboxes  int
	scaleLines      int
	scaleIdle       time.Duration
	nofile          int
}

// has reports whether the run includes part.
func (c *config) has(part string) bool { return slices.Contains(c.only, part) }

// parseConfig reads the flags, each defaulting to its environment variable.
func parseConfig(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	env := envFlags{fs: fs}
	env.str(&c.dir, "dir", "BENCH_DIR", filepath.Join(os.TempDir(), "msb-logfs-bench"), "work directory; keeps the corpora and results.txt between runs")
	env.str(&c.bin, "bin", "MSB_LOGFS", "", "msb-logfs binary to measure (default: go build ./cmd/msb-logfs)")
	env.str(&c.otelcol, "otelcol", "MSB_LOGFS_OTELCOL", "", "OpenTelemetry Collector binary of the ship part (default: what test/otelcol/build.sh builds once and caches)")
	env.str(&c.size, "size", "BENCH_SIZE", "200MiB", "exec.log bytes of the big sandbox")
	env.int(&c.repeat, "repeat", "BENCH_REPEAT", 1, "runs of each timed command of the cli, mount and cold parts; the fastest is reported")
	env.dur(&c.timeout, "timeout", "BENCH_TIMEOUT", 600*time.Second, "time limit of each timed command and bench tool")
	var only string
	env.str(&only, "only", "BENCH_ONLY", strings.Join(parts, ","), "comma-separated parts to run: "+strings.Join(parts, ", "))
	env.int(&c.latencyRate, "latency-rate", "BENCH_LATENCY_RATE", 20000, "lines/s appended by bench/latency")
	env.dur(&c.latencyDuration, "latency-duration", "BENCH_LATENCY_DURATION", 10*time.Second, "how long bench/latency appends")
	env.int(&c.idleReaders, "idle-readers", "BENCH_IDLE_READERS", 1000, "idle readers of bench/idle")
	env.dur(&c.idleMeasure, "idle-measure", "BENCH_IDLE_MEASURE", 10*time.Second, "idle window of bench/idle")
	env.int(&c.manySandboxes, "many-sandboxes", "BENCH_MANY_SANDBOXES", 2000, "sandboxes bench/many's grep -r walks")
	env.int(&c.manyTree, "many-tree", "BENCH_MANY_TREE", 10000, "sandboxes of bench/many's ls -l figures")
	env.int(&c.engineMB, "engine-mb", "BENCH_ENGINE_MB", 200, "MiB of the engine benchmarks' corpus")
	env.int(&c.sessions, "sessions", "BENCH_SESSIONS", 1000, "sessions of bench/sessions's sandbox")
	env.int(&c.walkSandboxes, "walk-sandboxes", "BENCH_WALK_SANDBOXES", 2000, "small sandboxes of the walk")
	env.int(&c.walkStats, "walk-stats", "BENCH_WALK_STATS", 0, "cold sandboxes the walk stats, and cats (0: half of -walk-sandboxes, at most 1000)")
	env.int(&c.scaleSandboxes, "scale-sandboxes", "BENCH_SCALE_SANDBOXES", 10000, "sandboxes of the walk's scaling figures (0: none)")
	env.int(&c.scaleLines, "scale-lines", "BENCH_SCALE_LINES", 210, "exec lines of each scaling sandbox (210: about 24 KiB of logs)")
	env.dur(&c.scaleIdle, "scale-idle", "BENCH_SCALE_IDLE", 60*time.Second, "wait before the scaling mount's second memory reading")
	env.int(&c.nofile, "nofile", "BENCH_NOFILE", 1024, "RLIMIT_NOFILE of the walk's mounts")
	if err := env.err; err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected arguments %q (flags only; -h lists them)", fs.Args())
	}
	var err error
	if c.only, err = parseOnly(only); err != nil {
		return nil, err
	}
	if c.sizeBytes, err = msbwriter.ParseSize(c.size); err != nil || c.sizeBytes <= 0 {
		return nil, fmt.Errorf("-size %q: want a size such as 200MiB (%v)", c.size, err)
	}
	if c.walkStats == 0 {
		c.walkStats = min(c.walkSandboxes/2, 1000)
	}
	return c, c.check()
}

// parseOnly splits a comma-separated list of parts and checks each.
func parseOnly(s string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(parts, p) {
			return nil, fmt.Errorf("-only: unknown part %q (known: %s)", p, strings.Join(parts, ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

// check range-checks the numbers.
func (c *config) check() error {
	for _, v := range []struct {
		name   string
		n, min int
		max    int
	}{
		{"repeat", c.repeat, 1, 100}, {"latency-rate", c.latencyRate, 1, 10_000_000},
		{"idle-readers", c.idleReaders, 1, 100_000}, {"many-sandboxes", c.manySandboxes, 1, 1_000_000},
		{"many-tree", c.manyTree, 1, 1_000_000}, {"engine-mb", c.engineMB, 1, 100_000},
		{"sessions", c.sessions, 1, 1_000_000}, {"walk-sandboxes", c.walkSandboxes, 2, 1_000_000},
		{"walk-stats", c.walkStats, 1, c.walkSandboxes}, {"scale-sandboxes", c.scaleSandboxes, 0, 1_000_000},
		{"scale-lines", c.scaleLines, 1, 100_000}, {"nofile", c.nofile, 64, 1 << 20},
	} {
		if v.n < v.min || v.n > v.max {
			return fmt.Errorf("-%s %d: want %d to %d", v.name, v.n, v.min, v.max)
		}
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"timeout", c.timeout}, {"latency-duration", c.latencyDuration}, {"idle-measure", c.idleMeasure}} {
		if d.d <= 0 {
			return fmt.Errorf("-%s %v: want a duration above 0", d.name, d.d)
		}
	}
	if c.scaleIdle < 0 {
		return fmt.Errorf("-scale-idle %v: want 0 or more", c.scaleIdle)
	}
	return nil
}

// envFlags defines flags whose defaults come from environment variables,
// keeping the first bad variable's error.
type envFlags struct {
	fs  *flag.FlagSet
	err error
}

func (e *envFlags) usage(usage, env string) string { return usage + " ($" + env + ")" }

func (e *envFlags) str(p *string, name, env, def, usage string) {
	if v, ok := os.LookupEnv(env); ok && v != "" {
		def = v
	}
	e.fs.StringVar(p, name, def, e.usage(usage, env))
}

func (e *envFlags) int(p *int, name, env string, def int, usage string) {
	if v, ok := os.LookupEnv(env); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil && e.err == nil {
			e.err = fmt.Errorf("$%s=%q: want a whole number", env, v)
		}
		def = n
	}
	e.fs.IntVar(p, name, def, e.usage(usage, env))
}

func (e *envFlags) dur(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v, ok := os.LookupEnv(env); ok && v != "" {
		d, err := parseDuration(v)
		if err != nil && e.err == nil {
			e.err = fmt.Errorf("$%s=%q: want a duration such as 10s", env, v)
		}
		def = d
	}
	e.fs.DurationVar(p, name, def, e.usage(usage, env))
}

// parseDuration reads a Go duration, or a bare number of seconds
// (BENCH_TIMEOUT=600).
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}
