// Package main is the msb-loggen command. It writes a realistic microsandbox
// sandbox log corpus for benchmarks and tests (msbwriter.GenerateCorpus):
//
//	msb-loggen -home DIR -name NAME -size 200MiB -rotate 40MiB -seed 1
//
// It prints what it wrote. `make bench` uses it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "msb-loggen:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("msb-loggen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: msb-loggen -home DIR [-name NAME] [-size 200MiB] [-rotate 40MiB] [-seed 1] [-start RFC3339]")
		fmt.Fprintln(fs.Output(), "example: msb-loggen -home /tmp/msb -name bench -size 200MiB -rotate 40MiB -seed 1")
		fs.PrintDefaults()
	}
	home := fs.String("home", "", "microsandbox home to write <home>/sandboxes/<name>/logs in (required)")
	name := fs.String("name", "bench", "sandbox name")
	size := fs.String("size", "200MiB", "total exec.log bytes across the rotation chain")
	rotate := fs.String("rotate", "40MiB", "exec.log rotation size")
	seed := fs.Int64("seed", 1, "random seed: the same seed writes the same bytes")
	start := fs.String("start", msbwriter.DefaultCorpusStart.Format(time.RFC3339), "first timestamp (RFC 3339)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts, err := options(*home, *size, *rotate, *start, *seed)
	if err != nil {
		return err
	}
	began := time.Now()
	rep, err := msbwriter.GenerateCorpusReport(*home, *name, opts)
	if err != nil {
		return err
	}
	report(msbwriter.LogsDir(*home, *name), opts.Start, rep, time.Since(began))
	return nil
}

func options(home, size, rotate, start string, seed int64) (msbwriter.CorpusOptions, error) {
	var o msbwriter.CorpusOptions
	if home == "" {
		return o, fmt.Errorf("-home is required")
	}
	var err error
	if o.TotalBytes, err = msbwriter.ParseSize(size); err != nil {
		return o, fmt.Errorf("-size: %w", err)
	}
	if o.RotateAt, err = msbwriter.ParseSize(rotate); err != nil {
		return o, fmt.Errorf("-rotate: %w", err)
	}
	if o.Start, err = time.Parse(time.RFC3339Nano, start); err != nil {
		return o, fmt.Errorf("-start: %w", err)
	}
	o.Seed = seed
	return o, nil
}

func report(dir string, start time.Time, rep msbwriter.CorpusReport, took time.Duration) {
	fmt.Printf("wrote %s in %s\n", dir, took.Round(time.Millisecond))
	names := []string{msbwriter.RuntimeLog, msbwriter.KernelLog}
	for i := msbwriter.ChainLen - 1; i >= 0; i-- {
		names = append(names, msbwriter.ChainName(i))
	}
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil {
			fmt.Printf("  %-12s %12d bytes\n", n, fi.Size())
		}
	}
	fmt.Printf("exec: %d bytes, %d chunks, %d malformed, %d binary, %d big (>=1 MiB), %d rotations, sessions 1..%d\n",
		rep.ExecBytes, rep.Chunks, rep.Malformed, rep.Binary, rep.BigChunks, rep.Rotations, rep.Sessions)
	if rep.Dropped {
		fmt.Println("note: -size exceeds 5 x -rotate, so the oldest data was rotated out of the chain")
	}
	fmt.Printf("runtime.log: %d lines, kernel.log: %d lines, time span %s .. %s\n",
		rep.RuntimeLines, rep.KernelLines, start.UTC().Format(msbwriter.TimeFormat), rep.End.UTC().Format(msbwriter.TimeFormat))
}
