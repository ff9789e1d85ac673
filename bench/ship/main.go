// Package main is the ship bench command. It measures msb-logfs ship
// (issue 18) through the real binary:
//
//   - once: `ship --once` of the corpus sandbox into an in-process
//     OTLP/HTTP sink that decodes every request and acknowledges it:
//     records/s, MB/s of log files, peak RSS and descriptors, against
//     `logs --json --source all` of the same sandbox in the same run (the
//     reading alone) as the reference;
//   - collector: the same into a real OpenTelemetry Collector (-otelcol);
//   - many: ship following -sandboxes small sandboxes: its RSS and
//     descriptors once they are all shipped (one descriptor set per
//     sandbox being read, not per sandbox known).
//
// Usage:
//
//	ship -bin msb-logfs -home HOME [-sandbox big] [-otelcol PATH] [-sandboxes 2000] [-repeat 3] [-kv FILE]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

type config struct {
	bin, home, sandbox, otelcol, kv string
	sandboxes, repeat               int
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("ship: ")
	var cfg config
	flag.StringVar(&cfg.bin, "bin", "", "msb-logfs binary (required)")
	flag.StringVar(&cfg.home, "home", "", "home holding the corpus sandbox (required)")
	flag.StringVar(&cfg.sandbox, "sandbox", "big", "the corpus sandbox")
	flag.StringVar(&cfg.otelcol, "otelcol", "", "an OpenTelemetry Collector binary (test/otelcol/build.sh); none: that figure is skipped")
	flag.IntVar(&cfg.sandboxes, "sandboxes", 2000, "small sandboxes of the many figure")
	flag.IntVar(&cfg.repeat, "repeat", 3, "runs of ship --once into the sink; the fastest is reported")
	flag.StringVar(&cfg.kv, "kv", "", "also write the figures as key=value lines to `FILE`")
	flag.Parse()
	if cfg.bin == "" || cfg.home == "" || cfg.sandboxes <= 0 || cfg.repeat <= 0 || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	work, err := os.MkdirTemp("", "ship-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	var kv []string
	failed := false
	for _, step := range []struct {
		name string
		run  func(config, string) ([]string, error)
	}{{"once", benchOnce}, {"collector", benchCollector}, {"many", benchMany}} {
		dir := filepath.Join(work, step.name)
		os.MkdirAll(dir, 0o755)
		out, err := step.run(cfg, dir)
		if err != nil {
			log.Printf("%s: FAILED: %v", step.name, err)
			failed = true
		}
		kv = append(kv, out...)
	}
	for _, line := range kv {
		fmt.Println(line)
	}
	if cfg.kv != "" {
		if err := os.WriteFile(cfg.kv, []byte(strings.Join(kv, "\n")+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if failed {
		os.Exit(1)
	}
}
