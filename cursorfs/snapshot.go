package cursorfs

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// snapshotHandle is an open snapshot file: its content, size and times are
// fixed at open. Safe for concurrent use.
type snapshotHandle struct {
	readOnly
	snap   *engine.Snapshot
	cached bool // the kernel may keep its pages (keepCache)
}

// keepCache lets the kernel keep the handle's pages: its inode is its
// state (state.go).
func (s *snapshotHandle) keepCache() { s.cached = true }

// Flags returns KeepCache once keepCache was called, else DirectIO.
func (s *snapshotHandle) Flags() OpenFlags {
	if s.cached {
		return KeepCache
	}
	return DirectIO
}

// openSnapshot fixes view v of sb as an open now shows it.
func openSnapshot(sb *engine.Sandbox, v engine.View) (*snapshotHandle, error) {
	s, err := sb.OpenSnapshot(v)
	if err != nil {
		return nil, fmt.Errorf("open snapshot of %s: %w", sb.Name(), err)
	}
	return &snapshotHandle{snap: s}, nil
}

// ReadAt reads at off. Unlike io.ReaderAt it returns a short count and a
// nil error at the end, as a read(2) does.
func (s *snapshotHandle) ReadAt(p []byte, off int64) (int, error) {
	return readAtNoEOF(s.snap, p, off)
}

// Read reads at off (see ReadAt): content fixed at open never blocks.
func (s *snapshotHandle) Read(_ context.Context, p []byte, off int64, _ bool) (int, error) {
	return s.ReadAt(p, off)
}

// Stat returns the size and time fixed at open.
func (s *snapshotHandle) Stat() (int64, time.Time) { return s.Size(), s.ModTime() }

// Size returns the length fixed at open.
func (s *snapshotHandle) Size() int64 { return s.snap.Size() }

// ModTime returns the time fixed at open.
func (s *snapshotHandle) ModTime() time.Time { return s.snap.ModTime() }

// ChangeTime returns the change time fixed at open (engine.ViewStat).
func (s *snapshotHandle) ChangeTime() time.Time { return s.snap.ChangeTime() }

// Close releases the snapshot's files.
func (s *snapshotHandle) Close() error { return s.snap.Close() }

// readAtNoEOF calls r.ReadAt and drops io.EOF.
func readAtNoEOF(r io.ReaderAt, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: %w", off, errNegativeOffset)
	}
	n, err := r.ReadAt(p, off)
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// bytesHandle is an open file whose whole content was read at open (cursor,
// boot-error.json). Safe for concurrent use.
type bytesHandle struct {
	readOnly
	data    []byte
	modTime time.Time
	keep    bool // the kernel may keep its pages (keyed.go); set before the open returns
}

// newBytes returns a file holding data.
func newBytes(data []byte, modTime time.Time) *bytesHandle {
	return &bytesHandle{data: data, modTime: modTime}
}

// ReadAt reads at off, returning a short count and nil at the end.
func (b *bytesHandle) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: %w", off, errNegativeOffset)
	}
	if off >= int64(len(b.data)) {
		return 0, nil
	}
	return copy(p, b.data[off:]), nil
}

// Read reads at off (see ReadAt).
func (b *bytesHandle) Read(_ context.Context, p []byte, off int64, _ bool) (int, error) {
	return b.ReadAt(p, off)
}

// Stat returns the content's length and time.
func (b *bytesHandle) Stat() (int64, time.Time) { return b.Size(), b.ModTime() }

// Size returns the content's length.
func (b *bytesHandle) Size() int64 { return int64(len(b.data)) }

// ModTime returns the content's time.
func (b *bytesHandle) ModTime() time.Time { return b.modTime }

// Close does nothing.
func (b *bytesHandle) Close() error { return nil }
