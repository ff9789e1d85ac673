package cursorfs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// testBox is a sandbox written with msbwriter and read through a home.
type testBox struct {
	t    testing.TB
	dir  string
	w    *msbwriter.Sandbox
	home *engine.Home
	sb   *engine.Sandbox
	fs   *FS
	n    int // stdout lines written
}

// newBox makes a home with sandbox name holding lines stdout lines, one
// runtime line and one kernel line.
func newBox(t testing.TB, name string, lines int, rotateAt int64) *testBox {
	t.Helper()
	dir := t.TempDir()
	w, err := msbwriter.Create(dir, name, msbwriter.Options{RotateAt: rotateAt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	home, err := engine.OpenHome(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = home.Close() })
	b := &testBox{t: t, dir: dir, w: w, home: home, fs: New(home)}
	b.write(lines)
	must(t, w.Runtime(time.Now().UTC().Format(msbwriter.TimeFormat)+" INFO runtime: started"))
	must(t, w.Kernel("[    0.000100] Linux version 6.6.0"))
	b.sb, err = home.Sandbox(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// line returns the body of stdout line i.
func line(i int) string { return fmt.Sprintf("line %06d of the test stream\n", i) }

// write appends n more stdout lines.
func (b *testBox) write(n int) {
	b.t.Helper()
	for range n {
		must(b.t, b.w.Exec(msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: []byte(line(b.n)), ID: 1, HasID: true}))
		b.n++
	}
}

// stdout returns the stdout lines from..to-1.
func stdout(from, to int) []byte {
	var buf bytes.Buffer
	for i := from; i < to; i++ {
		buf.WriteString(line(i))
	}
	return buf.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readAll reads r from 0 to its end in small pieces.
func readAll(t *testing.T, r interface {
	ReadAt([]byte, int64) (int, error)
}) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 777)
	for {
		n, err := r.ReadAt(buf, int64(len(out)))
		must(t, err)
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

// followUntil reads f from off until it holds want more bytes or the
// deadline passes.
func followUntil(t *testing.T, f *followHandle, off int64, want int, d time.Duration) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []byte
	buf := make([]byte, 4096)
	for len(out) < want {
		n, err := f.Read(ctx, buf, off+int64(len(out)), false)
		if err != nil {
			t.Fatalf("follow read after %d of %d bytes: %v", len(out), want, err)
		}
		if n == 0 {
			t.Fatalf("follow read: end of file after %d of %d bytes", len(out), want)
		}
		out = append(out, buf[:n]...)
	}
	return out
}

// engineBytes renders view v of sb with a snapshot opened directly.
func engineBytes(t testing.TB, sb *engine.Sandbox, v engine.View) []byte {
	t.Helper()
	s, err := sb.OpenSnapshot(v)
	must(t, err)
	defer s.Close()
	out, err := io.ReadAll(io.NewSectionReader(s, 0, s.Size()))
	must(t, err)
	return out
}

// readSeek reads a seek handle until it returns 0.
func readSeek(t testing.TB, s *seekHandle) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 1000)
	for {
		n, err := s.Read(context.Background(), buf, 0, false)
		must(t, err)
		if n == 0 {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// walk resolves path from the root one name at a time, as the kernel
// does, without stat-ing the directories on the way.
func walk(f *FS, path ...string) (Child, error) {
	var c Child = f.Root()
	for _, name := range path {
		d, ok := c.(*Dir)
		if !ok {
			return nil, fmt.Errorf("%s: %w", name, syscall.ENOTDIR)
		}
		var err error
		if c, err = d.Lookup(name); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// nodeAt resolves the file at path.
func nodeAt(f *FS, path ...string) (*Node, error) {
	c, err := walk(f, path...)
	if err != nil {
		return nil, err
	}
	n, ok := c.(*Node)
	if !ok {
		return nil, fmt.Errorf("%v: %w", path, syscall.EISDIR)
	}
	return n, nil
}

// dirAt resolves the directory at path.
func dirAt(f *FS, path ...string) (*Dir, error) {
	c, err := walk(f, path...)
	if err != nil {
		return nil, err
	}
	d, ok := c.(*Dir)
	if !ok {
		return nil, fmt.Errorf("%v: %w", path, syscall.ENOTDIR)
	}
	return d, nil
}
