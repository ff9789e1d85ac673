// Package main is the msb-loggen command. It writes microsandbox sandbox
// logs the way microsandbox does, for benchmarks, tests and trying
// msb-logfs out:
//
//	msb-loggen -home DIR -name NAME -size 200MiB -rotate 40MiB -seed 1
//	msb-loggen -home DIR -name NAME -live 50 -rotate 64KiB
//
// The first writes a seeded, deterministic corpus (msbwriter.GenerateCorpus)
// and prints what it wrote; `make bench` uses it. The second writes a live,
// human-readable mix (msbwriter.RunLive) at about RATE writes a second,
// rotating exec.log as microsandbox does, until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "msb-loggen:", err)
		os.Exit(2)
	}
}

const usage = `usage: msb-loggen -home DIR [-name NAME] [-size 200MiB] [-rotate 40MiB] [-seed 1] [-start RFC3339] [-sessions N [-interleave K]]
       msb-loggen -home DIR [-name NAME] -live RATE [-rotate 40MiB]

Writes <home>/sandboxes/<name>/logs the way microsandbox does: exec.log as
JSON Lines rotated through exec.log.1..4, runtime.log and kernel.log.
Without -live it writes a seeded corpus of -size bytes and exits; with
-live it writes about RATE lines a second until Ctrl-C.

examples:
  msb-loggen -home /tmp/msb -name bench -size 200MiB -rotate 40MiB -seed 1
  msb-loggen -home /tmp/msb -name many -size 200MiB -sessions 1000 -interleave 8
  msb-loggen -home /tmp/msb -name live -live 50 -rotate 64KiB

flags:
`

// config is what the command line asks for.
type config struct {
	home, name string
	live       int
	corpus     msbwriter.CorpusOptions
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parse(args, stdout)
	if err != nil {
		return err
	}
	if cfg.live > 0 {
		return runLive(ctx, cfg, stdout)
	}
	began := time.Now()
	rep, err := msbwriter.GenerateCorpusReport(cfg.home, cfg.name, cfg.corpus)
	if err != nil {
		return err
	}
	report(stdout, msbwriter.LogsDir(cfg.home, cfg.name), cfg.corpus.Start, rep, time.Since(began))
	return nil
}

// parse reads the flags. -help prints the usage on stdout and returns
// flag.ErrHelp; a bad flag returns an error that names it and -help.
func parse(args []string, stdout io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("msb-loggen", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are ours to print, once, on stderr
	fs.StringVar(&cfg.home, "home", "", "microsandbox home to write <home>/sandboxes/<name>/logs in (required)")
	fs.StringVar(&cfg.name, "name", "bench", "sandbox name")
	size := fs.String("size", "200MiB", "total exec.log bytes across the rotation chain (corpus)")
	rotate := fs.String("rotate", "40MiB", "exec.log rotation size")
	seed := fs.Int64("seed", 1, "random seed: the same seed writes the same bytes (corpus)")
	start := fs.String("start", msbwriter.DefaultCorpusStart.Format(time.RFC3339), "first timestamp, RFC 3339 (corpus)")
	sessions := fs.Int("sessions", 0, "write `N` exec sessions, ids 1..N, instead of a few one after another (corpus)")
	interleave := fs.Int("interleave", 1, "how many of the -sessions are live at once, their chunks interleaved (corpus)")
	fs.IntVar(&cfg.live, "live", 0, "write live at about `RATE` lines a second until SIGINT/SIGTERM, instead of a corpus")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprint(stdout, usage)
			fs.PrintDefaults()
			return cfg, err
		}
		return cfg, fmt.Errorf("%w (see msb-loggen -help)", err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (see msb-loggen -help)", fs.Arg(0))
	}
	if cfg.live < 0 {
		return cfg, fmt.Errorf("-live %d: the rate must be positive", cfg.live)
	}
	if *sessions < 0 || *interleave < 1 {
		return cfg, fmt.Errorf("-sessions %d -interleave %d: want -sessions >= 0 and -interleave >= 1 (see msb-loggen -help)", *sessions, *interleave)
	}
	var err error
	cfg.corpus, err = options(cfg.home, *size, *rotate, *start, *seed)
	cfg.corpus.Sessions, cfg.corpus.Interleave = *sessions, *interleave
	return cfg, err
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

// runLive writes the live mix until ctx is done or a SIGINT or SIGTERM
// arrives, then closes the sandbox's files.
func runLive(ctx context.Context, cfg config, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := msbwriter.Create(cfg.home, cfg.name, msbwriter.Options{RotateAt: cfg.corpus.RotateAt})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "writing %s live, about %d lines a second, rotating at %d bytes; Ctrl-C stops\n",
		s.LogsDir(), cfg.live, cfg.corpus.RotateAt)
	return errors.Join(msbwriter.RunLive(ctx, s, cfg.live), s.Close())
}

func report(w io.Writer, dir string, start time.Time, rep msbwriter.CorpusReport, took time.Duration) {
	fmt.Fprintf(w, "wrote %s in %s\n", dir, took.Round(time.Millisecond))
	names := []string{msbwriter.RuntimeLog, msbwriter.KernelLog}
	for i := msbwriter.ChainLen - 1; i >= 0; i-- {
		names = append(names, msbwriter.ChainName(i))
	}
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil {
			fmt.Fprintf(w, "  %-12s %12d bytes\n", n, fi.Size())
		}
	}
	fmt.Fprintf(w, "exec: %d bytes, %d chunks, %d malformed, %d binary, %d big (>=1 MiB), %d rotations, sessions 1..%d\n",
		rep.ExecBytes, rep.Chunks, rep.Malformed, rep.Binary, rep.BigChunks, rep.Rotations, rep.Sessions)
	if rep.Dropped {
		fmt.Fprintln(w, "note: -size exceeds 5 x -rotate, so the oldest data was rotated out of the chain")
	}
	fmt.Fprintf(w, "runtime.log: %d lines, kernel.log: %d lines, time span %s .. %s\n",
		rep.RuntimeLines, rep.KernelLines, start.UTC().Format(msbwriter.TimeFormat), rep.End.UTC().Format(msbwriter.TimeFormat))
}
