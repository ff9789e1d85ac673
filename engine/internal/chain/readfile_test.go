package chain_test

import (
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// TestReadFileReadAt: a log file's ReadAt fills the buffer, says io.EOF
// with what it read when the file ends first, refuses a negative offset,
// and fails with a clear error once the file is closed; a second Close
// fails and closes nothing.
func TestReadFileReadAt(t *testing.T) {
	d := testutil.NewDir(t)
	line := testutil.JL(0, "stdout", "hello\n")
	d.Exec(line)
	files := d.OpenFiles()
	f := files.Chain[0].File
	if f.Name() != filepath.Join(d.Logs, chain.ExecLogName) {
		t.Errorf("Name %q, want %q", f.Name(), filepath.Join(d.Logs, chain.ExecLogName))
	}
	buf := make([]byte, len(line))
	if n, err := f.ReadAt(buf, 0); n != len(line) || err != nil || string(buf) != line {
		t.Errorf("ReadAt of the whole file: %d, %v, %q", n, err, buf[:n])
	}
	long := make([]byte, len(line)+10)
	if n, err := f.ReadAt(long, 4); n != len(line)-4 || err != io.EOF || string(long[:n]) != line[4:] {
		t.Errorf("ReadAt past the end: %d, %v, %q; want %d bytes and io.EOF", n, err, long[:n], len(line)-4)
	}
	if n, err := f.ReadAt(buf, -1); n != 0 || err == nil {
		t.Errorf("ReadAt at -1: %d, %v; want an error", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(buf, 0); err == nil || !strings.Contains(err.Error(), "closed") || !strings.Contains(err.Error(), f.Name()) {
		t.Errorf("ReadAt after Close: %v; want an error naming the file and saying it is closed", err)
	}
	if err := f.Close(); err == nil {
		t.Error("a second Close: no error")
	}
}

// TestReadFileCloseWhileReading: a Close racing with reads of the same
// file waits for the reads in progress; each read either gets the bytes
// or the closed-file error, never another file's (run with -race).
func TestReadFileCloseWhileReading(t *testing.T) {
	d := testutil.NewDir(t)
	line := testutil.JL(0, "stdout", "hello\n")
	d.Exec(line)
	files := d.OpenFiles()
	f := files.Chain[0].File
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, len(line))
			for range 1000 {
				n, err := f.ReadAt(buf, 0)
				if err != nil {
					return
				}
				if string(buf[:n]) != line {
					t.Errorf("read %q while closing", buf[:n])
					return
				}
			}
		}()
	}
	f.Close()
	wg.Wait()
}
