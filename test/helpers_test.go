package test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/cursorfs"
	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// snapshotFiles are the snapshot files of a sandbox and their views.
var snapshotFiles = func() map[string]engine.View {
	m := map[string]engine.View{}
	for _, f := range cursorfs.Files {
		if f.Kind == cursorfs.KindSnapshot {
			m[f.Name] = f.View
		}
	}
	return m
}()

// corpusHome makes a home with sandbox name holding a realistic corpus of
// about size bytes of exec.log, rotated at size/4, with runtime.log and
// kernel.log.
func corpusHome(t *testing.T, name string, size int64) string {
	t.Helper()
	home := t.TempDir()
	err := msbwriter.GenerateCorpus(home, name, msbwriter.CorpusOptions{TotalBytes: size, RotateAt: size / 4, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return home
}

// render returns view v of sandbox name of home, read with the engine
// directly (not through the mount).
func render(t *testing.T, home, name string, v engine.View) []byte {
	t.Helper()
	h, err := engine.OpenHome(home)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sb, err := h.Sandbox(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sb.OpenSnapshot(v)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := io.ReadAll(io.NewSectionReader(s, 0, s.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sh runs a shell command line and returns its stdout; it fails the test on
// a non-zero exit or after the timeout.
func sh(t *testing.T, timeout time.Duration, script string) string {
	t.Helper()
	out, errOut, err := shErr(timeout, script)
	if err != nil {
		t.Fatalf("%s: %v\nstderr: %s", script, err, errOut)
	}
	return out
}

// shErr runs a shell command line, returning stdout, stderr and its error.
func shErr(timeout time.Duration, script string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v: %w", timeout, err)
	}
	return stdout.String(), stderr.String(), err
}

// q quotes a path for the shell.
func q(p string) string { return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'" }

// waitFor polls cond every 10 ms until it holds, failing after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// liveWriter writes a sandbox in the background until stopped.
type liveWriter struct {
	t      *testing.T
	s      *msbwriter.Sandbox
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

// writeLive starts msbwriter.RunLive on a new sandbox name of home at rate
// writes per second, rotating at rotateAt; the test's cleanup stops it.
func writeLive(t *testing.T, home, name string, rate int, rotateAt int64) *liveWriter {
	t.Helper()
	s, err := msbwriter.Create(home, name, msbwriter.Options{RotateAt: rotateAt})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &liveWriter{t: t, s: s, cancel: cancel}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if err := msbwriter.RunLive(ctx, s, rate); err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
		}
	}()
	t.Cleanup(w.stop)
	return w
}

// stop ends the writer and closes its sandbox. A write that failed, or a
// failed close, fails the test: the logs it checked were not written.
func (w *liveWriter) stop() {
	w.cancel()
	w.wg.Wait()
	if err := w.s.Close(); err != nil {
		w.t.Errorf("live writer: close: %v", err)
	}
	if err := w.error(); err != nil {
		w.t.Errorf("live writer: %v", err)
	}
}

// error returns the writer's error, nil while it writes fine.
func (w *liveWriter) error() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// lines splits text into lines without their newlines.
func lines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// sandboxDir returns <home>/sandboxes/<name>.
func sandboxDir(home, name string) string { return filepath.Join(home, "sandboxes", name) }

// mustRead reads a file or fails.
func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
