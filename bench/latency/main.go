// Package main is the latency command. It measures the append → visible
// latency of msb-logfs through a real mount: how long a line appended to a
// sandbox's exec.log takes to be read from a .follow file by a blocked
// reader, at a steady rate and with exec.log rotating under load.
//
// It makes a temporary microsandbox home with one sandbox, mounts it with
// `msb-logfs mount`, opens MNT/<sandbox>/<file> and reads it line by line
// while a writer appends -rate chunks per second for -duration: stdout
// chunks, or for stderr.follow, output.follow and system.follow chunks of
// that source. Each chunk is one exec.log line (one write(2)), and exec.log
// rotates whenever a line would take it past -rotate bytes. Each chunk's
// data is "seq=<n> t=<unix nanoseconds of the write>\n"; the reader records
// the time from write to read and checks that every seq arrives exactly once
// and in order. Then it unmounts (SIGINT to the mount process, as Ctrl-C
// would) with the reader still blocked, and removes everything it made.
//
// Usage:
//
//	latency [-bin msb-logfs] [-rate 20000] [-duration 10s] [-rotate 256KiB]
//	        [-file merged.follow] [-series 1s] [-kv FILE]
//
// It prints lines written and seen, missing, duplicated and out-of-order
// counts, latency percentiles, the achieved rate and the CPU time the mount
// process used, and exits 1 if any line was lost, duplicated or reordered,
// or if the mount misbehaved. -series adds the percentiles of each interval
// of the run (does latency drift as exec.log grows?); -kv writes the
// figures as key=value lines too (for bench/run).
//
// The follow file is opened with a raw blocking open(2): os.Open would put a
// FUSE file in non-blocking mode and park on EAGAIN waiting for a poll
// readiness that go-fuse never reports (it answers POLL with ENOSYS).
package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

const sandboxName = "latency"

func main() {
	var cfg config
	var rotate string
	flag.IntVar(&cfg.rate, "rate", 20000, "lines appended per second")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to append")
	flag.StringVar(&rotate, "rotate", "256KiB", "exec.log rotation size (RotateAt of the writer)")
	flag.StringVar(&cfg.file, "file", "merged.follow", "follow file of the sandbox to read")
	flag.DurationVar(&cfg.series, "series", 0, "also print the latency of the lines written in each `INTERVAL` of the run (e.g. 1s)")
	common := benchmount.ParseFlags("latency",
		"Measures append → visible latency through a real msb-logfs mount:\n"+
			"appends -rate lines/s to a sandbox for -duration (rotating exec.log\n"+
			"at -rotate) while a blocked reader reads -file, and checks that every\n"+
			"line arrives once and in order.\n\n",
		func() error {
			var err error
			if cfg.rotateAt, err = msbwriter.ParseSize(rotate); err != nil || cfg.rotateAt <= 0 {
				return fmt.Errorf("-rotate %q: want a size above 0 (%v)", rotate, err)
			}
			if cfg.rate <= 0 || cfg.duration <= 0 || cfg.file == "" || strings.Contains(cfg.file, "/") {
				return fmt.Errorf("-rate %d -duration %v -file %q: want a rate and a duration above 0 and a file name", cfg.rate, cfg.duration, cfg.file)
			}
			return nil
		})
	cfg.bin, cfg.kv = common.Bin, common.KV
	benchmount.Main(func(ctx context.Context) (bool, error) { return run(ctx, cfg) })
}

type config struct {
	bin      string
	rate     int
	duration time.Duration
	rotateAt int64
	file     string
	kv       string
	series   time.Duration
}

// run performs the whole measurement. ok is false when a line was lost,
// duplicated or reordered, or the mount misbehaved; err when the
// measurement could not be made at all.
func run(ctx context.Context, cfg config) (ok bool, err error) {
	b, err := benchmount.Setup(sandboxName, cfg.bin, msbwriter.Options{RotateAt: cfg.rotateAt})
	if err != nil {
		return false, err
	}
	defer b.Close()
	// Some content before the reader opens: the follow file starts with it.
	if err := b.Sandbox.Exec(msbwriter.Chunk{Source: msbwriter.SourceSystem, Data: []byte("latency benchmark starts\n")}); err != nil {
		return false, err
	}

	m, err := b.Mount(ctx)
	if err != nil {
		return false, err
	}
	defer m.Stop(syscall.SIGINT) // no-op once stopped below

	f, err := b.Follow(cfg.file)
	if err != nil {
		return false, err
	}
	defer f.Close()

	expect := int(float64(cfg.rate)*cfg.duration.Seconds()) + 1
	r := newReader(f, expect)
	go r.run()

	fmt.Printf("latency: %s, %d lines/s for %s, exec.log rotated at %d bytes, msb-logfs pid %d\n",
		cfg.file, cfg.rate, cfg.duration, cfg.rotateAt, m.Pid())

	o, err := measure(ctx, cfg, b.Sandbox, m, r)
	if err != nil {
		return false, err
	}
	o.print(cfg)
	if cfg.kv != "" {
		if err := o.writeKV(cfg); err != nil {
			return o.ok, err
		}
	}
	return o.ok, nil
}

// measure writes, waits for the reader to catch up, and unmounts with the
// reader still blocked.
func measure(ctx context.Context, cfg config, sb *msbwriter.Sandbox, m *benchmount.Mount, r *reader) (*outcome, error) {
	o := &outcome{mountLog: m.LogPath()}
	cpu0, _ := benchmount.CPUSeconds(m.Pid())
	o.w, o.werr = write(ctx, sb, cfg)
	waitCaughtUp(ctx, r, o.w.lines)
	cpu1, _ := benchmount.CPUSeconds(m.Pid())
	o.cpu = cpu1 - cpu0
	o.busy = time.Since(o.w.start)
	if ctx.Err() != nil {
		return nil, benchmount.ErrInterrupted
	}

	// Unmount with the reader blocked: it must get end of file at once.
	o.endedEarly = r.isDone()
	sigint := time.Now()
	o.mountRC, o.mountTook = m.Stop(syscall.SIGINT)
	o.readerEnd = -1
	select {
	case <-r.done:
		o.readerEnd = r.endedAt.Sub(sigint)
	case <-time.After(5 * time.Second):
	}

	o.res = r.result(o.w.lines, o.w.start, cfg.series)
	o.readErr = r.readErr()
	o.ok = o.werr == nil && o.res.missing == 0 && o.res.duplicated == 0 && o.res.outOfOrder == 0 &&
		!o.endedEarly && o.readerEnd >= 0 && o.mountRC == 0 && o.readErr == nil
	return o, nil
}

// waitCaughtUp waits for the reader to see the last line: until every line
// is seen, nothing new arrives for 3 s, the reader ends or ctx is done.
func waitCaughtUp(ctx context.Context, r *reader, lines int64) {
	lastProgress, lastSeen := time.Now(), int64(-1)
	for ctx.Err() == nil {
		n := r.unique.Load()
		if n >= lines || r.isDone() {
			break
		}
		if n != lastSeen {
			lastProgress, lastSeen = time.Now(), n
		} else if time.Since(lastProgress) > 3*time.Second {
			break
		}
		time.Sleep(time.Millisecond)
	}
}
