package cursorfs

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// Snapshot is an open snapshot file: its content, size and times are fixed
// at open. Safe for concurrent use.
type Snapshot struct {
	readOnly
	snap *engine.Snapshot
}

// OpenSnapshot fixes view v of sb as an open now shows it.
func OpenSnapshot(sb *engine.Sandbox, v engine.View) (*Snapshot, error) {
	s, err := sb.OpenSnapshot(v)
	if err != nil {
		return nil, fmt.Errorf("open snapshot of %s: %w", sb.Name(), err)
	}
	return &Snapshot{snap: s}, nil
}

// ReadAt reads at off. Unlike io.ReaderAt it returns a short count and a
// nil error at the end, as a read(2) does.
func (s *Snapshot) ReadAt(p []byte, off int64) (int, error) {
	return readAtNoEOF(s.snap, p, off)
}

// Read reads at off (see ReadAt): content fixed at open never blocks.
func (s *Snapshot) Read(_ context.Context, p []byte, off int64, _ bool) (int, error) {
	return s.ReadAt(p, off)
}

// Stat returns the size and time fixed at open.
func (s *Snapshot) Stat() (int64, time.Time) { return s.Size(), s.ModTime() }

// Size returns the length fixed at open.
func (s *Snapshot) Size() int64 { return s.snap.Size() }

// ModTime returns the time fixed at open.
func (s *Snapshot) ModTime() time.Time { return s.snap.ModTime() }

// Close releases the snapshot's files.
func (s *Snapshot) Close() error { return s.snap.Close() }

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

// Bytes is an open file whose whole content was read at open (cursor,
// boot-error.json). Safe for concurrent use.
type Bytes struct {
	readOnly
	data    []byte
	modTime time.Time
}

// NewBytes returns a file holding data.
func NewBytes(data []byte, modTime time.Time) *Bytes {
	return &Bytes{data: data, modTime: modTime}
}

// ReadAt reads at off, returning a short count and nil at the end.
func (b *Bytes) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: %w", off, errNegativeOffset)
	}
	if off >= int64(len(b.data)) {
		return 0, nil
	}
	return copy(p, b.data[off:]), nil
}

// Read reads at off (see ReadAt).
func (b *Bytes) Read(_ context.Context, p []byte, off int64, _ bool) (int, error) {
	return b.ReadAt(p, off)
}

// Stat returns the content's length and time.
func (b *Bytes) Stat() (int64, time.Time) { return b.Size(), b.ModTime() }

// Size returns the content's length.
func (b *Bytes) Size() int64 { return int64(len(b.data)) }

// ModTime returns the content's time.
func (b *Bytes) ModTime() time.Time { return b.modTime }

// Close does nothing.
func (b *Bytes) Close() error { return nil }
