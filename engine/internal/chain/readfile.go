package chain

import (
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// ReadFile is an open log file, read with pread(2) on its descriptor. It
// is what a log file needs of an os.File and no more: os.NewFile asks the
// kernel for the descriptor's flags and, for one opened O_NONBLOCK (as log
// files are, so that a FIFO swapped in cannot block the open), tries to
// add it to the runtime's poller, which a regular file refuses: two
// system calls per file that a small sandbox's open pays for nothing.
// Safe for concurrent use: reads share the descriptor, and Close waits
// for the reads in progress, so that a descriptor number is never read
// after it was closed (and perhaps given to another file).
type ReadFile struct {
	mu   sync.RWMutex
	fd   int // -1 once closed
	name string
}

// errFileClosed is returned by a read of a closed ReadFile.
var errFileClosed = errors.New("log file already closed")

// newReadFile takes ownership of fd, an open file known as name.
func newReadFile(fd int, name string) *ReadFile { return &ReadFile{fd: fd, name: name} }

// Name returns the path the file was opened as.
func (f *ReadFile) Name() string { return f.name }

// ReadAt implements io.ReaderAt: it reads until p is full, the end of the
// file (io.EOF) or an error.
func (f *ReadFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: errors.New("negative offset")}
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.fd < 0 {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: errFileClosed}
	}
	n := 0
	for n < len(p) {
		m, err := unix.Pread(f.fd, p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "read", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// control runs fn with the descriptor, held open while fn runs (Close
// waits, as for a read); it does not run fn once the file is closed.
func (f *ReadFile) control(fn func(fd int)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.fd >= 0 {
		fn(f.fd)
	}
}

// Close closes the descriptor once the reads in progress are done; a
// second Close returns an error and closes nothing.
func (f *ReadFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fd < 0 {
		return &os.PathError{Op: "close", Path: f.name, Err: errFileClosed}
	}
	err := unix.Close(f.fd)
	f.fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}
