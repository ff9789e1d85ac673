// Package main is the idle command. It measures what many idle followers
// cost msb-logfs: it mounts a sandbox, starts -readers
// `cat MNT/<sandbox>/X.follow` processes (spread over the five follow files)
// that block at the end of what exists, and then, while nothing is written
// for -measure, takes the mount process's CPU time, context switches,
// inotify instances, threads and memory. A follower must cost nothing while
// idle: one inotify instance for the whole process, a slow safety poll, no
// busy polling and no thread per reader.
//
// Then it appends one line to each source (stdout, stderr, output, system)
// and checks that they wake up: an extra reader of merged.follow, opened
// with a raw blocking open(2), must see its line within 1 s, and every cat
// must read something within 2 s (seen in /proc/PID/io, as their output
// goes to /dev/null). Last it sends SIGTERM to the mount and checks that all
// the cats exit within 5 s (a cat that exits with an error rather than at
// end of file is reported, not failed), and removes everything it made.
//
// Usage:
//
//	idle [-bin msb-logfs] [-readers 1000] [-measure 10s] [-kv FILE]
//
// It exits 1 if a check fails; -kv also writes the figures as key=value
// lines (for bench/run).
//
// The extra reader does not use os.Open: that would put a FUSE file in
// non-blocking mode and park on EAGAIN waiting for a poll readiness that
// go-fuse never reports (it answers POLL with ENOSYS).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

const sandboxName = "idle"

// followFiles are the follow files the cats are spread over.
var followFiles = []string{"merged.follow", "stdout.follow", "stderr.follow", "output.follow", "system.follow"}

func main() {
	var cfg config
	flag.IntVar(&cfg.readers, "readers", 1000, "number of idle `cat X.follow` processes")
	flag.DurationVar(&cfg.measure, "measure", 10*time.Second, "idle window over which the mount's CPU time is measured")
	common := benchmount.ParseFlags("idle",
		"Measures what -readers idle `cat X.follow` processes cost a real\n"+
			"msb-logfs mount (CPU over -measure, inotify instances, threads,\n"+
			"memory), then that one append wakes them all and that SIGTERM to the\n"+
			"mount ends them.\n\n",
		func() error {
			if cfg.readers <= 0 || cfg.measure <= 0 {
				return fmt.Errorf("-readers %d -measure %v: want both above 0", cfg.readers, cfg.measure)
			}
			return nil
		})
	cfg.bin, cfg.kv = common.Bin, common.KV
	benchmount.Main(func(ctx context.Context) (bool, error) { return run(ctx, cfg) })
}

type config struct {
	bin     string
	readers int
	measure time.Duration
	kv      string
}

// run performs the whole measurement. ok is false when a check failed; err
// when the measurement could not be made at all.
func run(ctx context.Context, cfg config) (ok bool, err error) {
	b, err := benchmount.Setup(sandboxName, cfg.bin, msbwriter.Options{})
	if err != nil {
		return false, err
	}
	defer b.Close()
	if err := fill(b.Sandbox); err != nil {
		return false, err
	}

	m, err := b.Mount(ctx)
	if err != nil {
		return false, err
	}
	defer m.Stop(syscall.SIGINT) // no-op once stopped below

	extra, err := startExtra(b)
	if err != nil {
		return false, err
	}
	defer extra.f.Close()

	errPath := filepath.Join(b.Dir, "cats.err")
	errFile, err := os.Create(errPath)
	if err != nil {
		return false, err
	}
	defer errFile.Close()
	fmt.Printf("idle: %d cat readers of the %d follow files of a mount, msb-logfs pid %d\n",
		cfg.readers, len(followFiles), m.Pid())

	s := &session{pid: m.Pid(), mnt: b.Mnt, sb: b.Sandbox, extra: extra}
	defer s.killCats()
	if err := s.measure(ctx, cfg, b.SandboxDir(), errFile); err != nil {
		return false, err
	}
	s.terminate(m)
	f := &s.f
	f.ok = f.passed()
	f.print(errPath, m.LogPath())
	if cfg.kv != "" {
		if err := f.writeKV(cfg.kv); err != nil {
			return f.ok, err
		}
	}
	return f.ok, nil
}

// fill gives the sandbox some content in every source and both text logs.
func fill(sb *msbwriter.Sandbox) error {
	t := time.Now().Add(-time.Hour)
	sources := []string{msbwriter.SourceStdout, msbwriter.SourceStderr, msbwriter.SourceOutput, msbwriter.SourceSystem}
	for i := range 400 {
		src := sources[i%len(sources)]
		c := msbwriter.Chunk{Time: t.Add(time.Duration(i) * time.Second), Source: src,
			Data: fmt.Appendf(nil, "%s line %d of the idle benchmark\n", src, i), ID: 1, HasID: true}
		if err := sb.Exec(c); err != nil {
			return err
		}
	}
	for i := range 20 {
		ts := t.Add(time.Duration(i) * time.Second).UTC().Format("2006-01-02T15:04:05.000000Z")
		if err := sb.Runtime(ts + " INFO runtime line " + strconv.Itoa(i)); err != nil {
			return err
		}
		if err := sb.Kernel(fmt.Sprintf("[ %d.000000] kernel line %d", i, i)); err != nil {
			return err
		}
	}
	return nil
}
