package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// measure runs argv -repeat times and returns the fastest run, with the
// largest peak RSS of them.
func (b *bench) measure(ctx context.Context, argv ...string) (benchmount.Timed, error) {
	var best benchmount.Timed
	for i := range b.cfg.repeat {
		t, err := benchmount.Run(ctx, benchmount.Cmd{Argv: argv, Limit: b.cfg.timeout, PeakRSS: true})
		if err != nil {
			return t, err
		}
		rss := max(best.MaxRSSKiB, t.MaxRSSKiB)
		if i == 0 || t.Wall < best.Wall {
			best = t
		}
		best.MaxRSSKiB = rss
	}
	return best, nil
}

// once runs argv once.
func (b *bench) once(ctx context.Context, argv ...string) (benchmount.Timed, error) {
	return benchmount.Run(ctx, benchmount.Cmd{Argv: argv, Limit: b.cfg.timeout})
}

// timedRow measures argv and adds its row; it returns the seconds, 0 if
// it failed (the row then says so).
func (b *bench) timedRow(ctx context.Context, name string, bytes int64, ratio func(float64) string, argv ...string) float64 {
	t, err := b.measure(ctx, argv...)
	if err != nil {
		b.t.Fail(name, err)
		return 0
	}
	r := table.Row{Name: name, Secs: t.Seconds(), Bytes: bytes, RSSKiB: t.MaxRSSKiB}
	if ratio != nil {
		r.Ratio = ratio(t.Seconds())
	}
	b.t.Add(r)
	return t.Seconds()
}

// execChain is the big sandbox's exec files that exist, oldest first.
func (b *bench) execChain() ([]string, int64, error) {
	var files []string
	var total int64
	for _, name := range []string{"exec.log.4", "exec.log.3", "exec.log.2", "exec.log.1", "exec.log"} {
		p := filepath.Join(b.logs(), name)
		info, err := os.Stat(p)
		if err != nil {
			continue
		}
		files, total = append(files, p), total+info.Size()
	}
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("no exec.log in %s", b.logs())
	}
	return files, total, nil
}

// logFiles is every file of the big sandbox's logs directory, sorted, and
// their total size.
func (b *bench) logFiles() ([]string, int64, error) {
	ents, err := os.ReadDir(b.logs())
	if err != nil {
		return nil, 0, err
	}
	var files []string
	var total int64
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		files, total = append(files, filepath.Join(b.logs(), e.Name())), total+info.Size()
	}
	slices.Sort(files)
	return files, total, nil
}

// startMount mounts the big sandbox's home with cache directory cache
// (a new one is a cold start; one used before, a remount).
func (b *bench) startMount(ctx context.Context, cache string) (*benchmount.Mount, string, error) {
	mnt, err := os.MkdirTemp(b.work, "mnt-")
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, "", err
	}
	m, err := benchmount.StartMount(ctx, benchmount.Spec{Bin: b.bins["msb-logfs"], Home: b.home, Mnt: mnt,
		LogPath: mnt + ".log", Ready: filepath.Join(mnt, bigName), Flags: []string{"--cache-dir", cache}})
	return m, mnt, err
}

// stopMount stops a mount, noting a bad exit status.
func (b *bench) stopMount(m *benchmount.Mount) {
	if rc, _ := m.Stop(syscall.SIGINT); rc != 0 {
		b.t.Note("msb-logfs mount exited with status %d after SIGINT (want 0):\n%s", rc, benchmount.LogTail(m.LogPath(), 5))
	}
}

// speed formats ref/secs, the speed of a figure relative to a reference
// that took ref seconds.
func speed(ref float64, name string) func(float64) string {
	return func(secs float64) string { return table.Ratio(ref, secs, name) }
}
