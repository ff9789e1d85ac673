package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// kv is the key=value output of a bench command's -kv.
type kv map[string]string

// num is key's value as a number, 0 if missing or not one.
func (k kv) num(key string) float64 {
	v, _ := strconv.ParseFloat(k[key], 64)
	return v
}

// whole is key's value as a whole number, 0 if missing or not one.
func (k kv) whole(key string) int64 {
	v, _ := strconv.ParseInt(k[key], 10, 64)
	return v
}

// maxKVBytes bounds a -kv file.
const maxKVBytes = 1 << 20

// readKV reads a -kv file.
func readKV(path string) (kv, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > maxKVBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than a -kv file holds", path, len(data))
	}
	out := kv{}
	for l := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out, nil
}

// tool runs the bench command name with args and -kv, its temporary files
// in work/tmp-NAME (so that nothing it leaves mounted escapes the
// clean-up), shows its output indented on stderr and returns its figures.
// A command that fails still returns the figures it wrote, with the error.
func (b *bench) tool(ctx context.Context, name string, args ...string) (kv, error) {
	tmp := filepath.Join(b.work, "tmp-"+name)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	kvPath := filepath.Join(b.work, name+".kv")
	ctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bins[name], append(args, "-bin", b.bins["msb-logfs"], "-kv", kvPath)...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	// SIGINT first, so that the command stops its mount and readers.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	out, runErr := cmd.CombinedOutput()
	for l := range strings.SplitSeq(strings.TrimRight(string(out), "\n"), "\n") {
		fmt.Fprintln(os.Stderr, "   "+l)
	}
	benchmount.UnmountUnder(tmp)
	if ctx.Err() == context.DeadlineExceeded {
		runErr = fmt.Errorf("%w after %v", benchmount.ErrTimeout, b.cfg.timeout)
	}
	figures, err := readKV(kvPath)
	if runErr != nil {
		return figures, fmt.Errorf("%s: %w: %s", name, runErr, failedLines(string(out)))
	}
	return figures, err
}

// failedLines is the lines of a bench command's output that say what
// failed, on one line.
func failedLines(out string) string {
	var keep []string
	for l := range strings.SplitSeq(out, "\n") {
		if strings.Contains(l, "FAILED") || strings.Contains(l, "ERROR") || strings.Contains(l, "missing") {
			keep = append(keep, strings.TrimSpace(l))
		}
	}
	return strings.Join(keep[max(0, len(keep)-4):], " | ")
}

// sessionsCorpus writes the sessions sandbox into cfg.dir/sessions-home
// unless the corpus there is already the one asked for.
func (b *bench) sessionsCorpus() (string, error) {
	home := filepath.Join(b.cfg.dir, "sessions-home")
	marker := filepath.Join(home, ".msb-loggen-done")
	want := fmt.Sprintf("size=%s rotate=%d seed=%d sessions=%d interleave=8", b.cfg.size, bigRotate, bigSeed, b.cfg.sessions)
	if got, err := os.ReadFile(marker); err == nil && string(got) == want {
		return home, nil
	}
	if err := os.RemoveAll(home); err != nil {
		return "", err
	}
	opts := msbwriter.CorpusOptions{TotalBytes: b.cfg.sizeBytes, RotateAt: bigRotate, Seed: bigSeed, Sessions: b.cfg.sessions, Interleave: 8}
	if err := msbwriter.GenerateCorpus(home, bigName, opts); err != nil {
		return "", fmt.Errorf("the sessions corpus: %w", err)
	}
	return home, errors.Join(os.WriteFile(marker, []byte(want), 0o644))
}
