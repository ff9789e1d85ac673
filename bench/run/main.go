// Package main is the driver of `make bench`: the whole-process benchmarks
// of msb-logfs, in one run, into one table.
//
// It builds msb-logfs (or takes -bin) and the bench commands, writes the
// corpora with msbwriter (kept in -dir between runs), and measures, part by
// part (-only picks some):
//
//   - cli: `msb-logfs logs` against cat and jq of the same exec.log files;
//   - mount: stat and warm cat of the big sandbox's views through a mount,
//     against cat of its log files through the go-fuse loopback
//     (bench/loopback);
//   - cold: the first stat and cat through fresh mounts, and after a
//     remount over a used cache directory;
//   - engine: the engine's go test benchmarks, with and without parse-ahead;
//   - latency, idle, many, sessions: the bench commands of those names,
//     each through mounts of its own;
//   - ship: bench/ship: `ship --once` of the big sandbox into a decoding
//     OTLP sink and into a real OpenTelemetry Collector, and ship's RSS
//     and descriptors following -many-sandboxes sandboxes;
//   - walk: the host-wide walk (package walk): grep -r, cp -r, stat and cat
//     over thousands of small sandboxes against the same tree copied to
//     disk and that copy through the loopback; mmap; the scaling corpus.
//
// It prints the table and appends it to -dir/results.txt. Every flag has
// an environment variable, which is what `make bench VAR=…` sets.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	cfg, err := parseConfig(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	benchmount.Main(func(ctx context.Context) (bool, error) { return run(ctx, cfg) })
}
