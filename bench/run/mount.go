package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// views are the snapshot views of a sandbox directory.
var views = []string{"merged", "stdout", "stderr", "output", "system", "merged.jsonl"}

// mount times, through one mount of the big sandbox, the first and then
// warm stats of merged, warm cats of merged and stdout against the log
// files through the loopback, and a cat of every view.
func (b *bench) mount(ctx context.Context) error {
	m, mnt, err := b.startMount(ctx, filepath.Join(b.work, "cache-main"))
	if err != nil {
		return err
	}
	defer b.stopMount(m)
	dir := filepath.Join(mnt, bigName)
	b.statRow(ctx, "mount: first stat merged (cold)", filepath.Join(dir, "merged"))
	b.warmStats(ctx, filepath.Join(dir, "merged"))
	merged, mergedBytes, mergedErr := b.catTwice(ctx, filepath.Join(dir, "merged"))
	stdout, stdoutBytes, stdoutErr := b.catTwice(ctx, filepath.Join(dir, "stdout"))
	lb, lbBytes, lbErr := b.loopbackCat(ctx)
	lbSpeed := func(secs float64, bytes int64) string {
		if lbErr != nil || lb <= 0 || secs <= 0 {
			return ""
		}
		return table.Ratio(float64(bytes)/secs, float64(lbBytes)/lb, "loopback's speed")
	}
	for _, r := range []struct {
		name  string
		secs  float64
		bytes int64
		err   error
	}{{"mount: cat merged (warm)", merged, mergedBytes, mergedErr}, {"mount: cat stdout (warm)", stdout, stdoutBytes, stdoutErr}} {
		if r.err != nil {
			b.t.Fail(r.name, r.err)
			continue
		}
		b.t.Add(table.Row{Name: r.name, Secs: r.secs, Bytes: r.bytes, Ratio: lbSpeed(r.secs, r.bytes)})
	}
	if lbErr != nil {
		b.t.Fail("loopback: cat all log files (warm)", lbErr)
	} else {
		b.t.Add(table.Row{Name: "loopback: cat all log files (warm)", Secs: lb, Bytes: lbBytes, Ratio: "reference"})
	}
	b.catViews(ctx, dir)
	b.t.Add(table.Row{Name: "mount: process peak RSS (VmHWM)", RSSKiB: benchmount.StatusField(m.Pid(), "VmHWM")})
	return nil
}

// statRow times one stat(1) of path as a row.
func (b *bench) statRow(ctx context.Context, name, path string) {
	t, err := b.once(ctx, "stat", path)
	if err != nil {
		b.t.Fail(name, err)
		return
	}
	b.t.Add(table.Row{Name: name, Secs: t.Seconds(), Ratio: table.Ratio(t.Seconds(), b.diskStat, "stat on disk")})
}

// warmStats times one stat(1) of path 100 times over, as the mean.
func (b *bench) warmStats(ctx context.Context, path string) {
	const n = 100
	name := fmt.Sprintf("mount: stat merged (warm, mean of %d)", n)
	t, err := b.once(ctx, append([]string{"stat"}, slices.Repeat([]string{path}, n)...)...)
	if err != nil {
		b.t.Fail(name, err)
		return
	}
	b.t.Add(table.Row{Name: name, Secs: t.Seconds() / n})
}

// catTwice cats files twice and returns the second (warm) run's seconds
// and their total size.
func (b *bench) catTwice(ctx context.Context, files ...string) (float64, int64, error) {
	argv := append([]string{"cat"}, files...)
	if _, err := b.measure(ctx, argv...); err != nil {
		return 0, 0, err
	}
	t, err := b.measure(ctx, argv...)
	if err != nil {
		return 0, 0, err
	}
	var size int64
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			return 0, 0, err
		}
		size += info.Size()
	}
	return t.Seconds(), size, nil
}

// loopbackCat cats every log file of the big sandbox twice through the
// loopback, and returns the second run's seconds and bytes.
func (b *bench) loopbackCat(ctx context.Context) (float64, int64, error) {
	files, _, err := b.logFiles()
	if err != nil {
		return 0, 0, err
	}
	mnt, err := os.MkdirTemp(b.work, "loopback-")
	if err != nil {
		return 0, 0, err
	}
	lb, err := benchmount.StartLoopback(ctx, b.bins["loopback"], b.logs(), mnt, mnt+".log", filepath.Join(mnt, "exec.log"))
	if err != nil {
		return 0, 0, err
	}
	defer b.stopMount(lb)
	through := make([]string, len(files))
	for i, f := range files {
		through[i] = filepath.Join(mnt, filepath.Base(f))
	}
	return b.catTwice(ctx, through...)
}

// catViews times one cat of every snapshot view.
func (b *bench) catViews(ctx context.Context, dir string) {
	name := fmt.Sprintf("mount: cat all %d snapshot views", len(views))
	paths := make([]string, len(views))
	for i, v := range views {
		paths[i] = filepath.Join(dir, v)
	}
	t, err := benchmount.Run(ctx, benchmount.Cmd{Argv: append([]string{"cat"}, paths...), Limit: b.cfg.timeout})
	if err != nil {
		b.t.Fail(name, err)
		return
	}
	var size int64
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil {
			size += info.Size()
		}
	}
	b.t.Add(table.Row{Name: name, Secs: t.Seconds(), Bytes: size})
}

// cold times the first read through fresh mounts with fresh cache
// directories: the first cat of stdout, against jq and a plain scan; a
// cold stat of merged and the first cat of merged after it (a stat does
// not render merged, so the cat parses again); then the first stat after
// a remount over the cache directory of the mount part (its saved index).
func (b *bench) cold(ctx context.Context) error {
	_, execBytes, err := b.execChain()
	if err != nil {
		return err
	}
	if err := b.withMount(ctx, "cache-cold", func(dir string) {
		secs := b.timedRow(ctx, "mount: first cat stdout (cold)", execBytes, speed(b.jqSecs, "jq's speed"), "cat", filepath.Join(dir, "stdout"))
		if secs > 0 && b.catSecs > 0 {
			b.t.Note("first cat stdout through a fresh mount: %.2fx the time of cat exec.log* (a plain scan)", secs/b.catSecs)
		}
	}); err != nil {
		return err
	}
	if err := b.withMount(ctx, "cache-cold-merged", func(dir string) {
		b.statRow(ctx, "mount: first stat merged (cold, again)", filepath.Join(dir, "merged"))
		b.timedRow(ctx, "mount: then first cat merged", execBytes, speed(b.jqSecs, "jq's speed"), "cat", filepath.Join(dir, "merged"))
	}); err != nil {
		return err
	}
	if !b.cfg.has("mount") {
		b.t.Note("cold: the mount part did not run: no first stat after a remount")
		return nil
	}
	return b.withMount(ctx, "cache-main", func(dir string) {
		b.statRow(ctx, "mount: first stat merged after remount", filepath.Join(dir, "merged"))
	})
}

// withMount runs f with the big sandbox's directory in a mount whose
// cache directory is work/cache.
func (b *bench) withMount(ctx context.Context, cache string, f func(dir string)) error {
	m, mnt, err := b.startMount(ctx, filepath.Join(b.work, cache))
	if err != nil {
		return err
	}
	defer b.stopMount(m)
	f(filepath.Join(mnt, bigName))
	return nil
}

// diskStatRow times stat(1) of exec.log on disk: what starting the stat
// process costs on this machine at this load, the reference of the stat
// rows.
func (b *bench) diskStatRow(ctx context.Context) {
	name := "stat exec.log on disk (reference)"
	t, err := b.once(ctx, "stat", filepath.Join(b.logs(), "exec.log"))
	if err != nil {
		b.t.Fail(name, err)
		return
	}
	b.diskStat = t.Seconds()
	b.t.Add(table.Row{Name: name, Secs: b.diskStat})
}
