package cursorfs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// followHandle is an open follow file: the view as of its open, then every
// entry appended after it, in arrival order. Bytes once shown never change.
// Safe for concurrent use.
type followHandle struct {
	readOnly
	fs     *FS
	sb     *engine.Sandbox
	f      *engine.Follow
	closed chan struct{}
	live   sync.RWMutex // held for reading around every use of f; Close takes it
	// waiting counts the reads waiting at the end now, so that a test
	// can wait for a read to block instead of sleeping.
	waiting atomic.Int32
}

// openFollow opens view v of sb for following.
func (fs *FS) openFollow(sb *engine.Sandbox, v engine.View) (*followHandle, error) {
	f, err := sb.OpenFollow(v)
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", sb.Name(), err)
	}
	return &followHandle{fs: fs, sb: sb, f: f, closed: make(chan struct{})}, nil
}

// Read reads at off. Below the handle's current length it returns at once.
// At the end it takes in what was appended; if there is still nothing, it
// returns EAGAIN when nonblock is set (O_NONBLOCK), and otherwise waits
// until the sandbox changes (and tries again), ctx is done (EINTR), or the
// filesystem shuts down or the handle closes (0 bytes: end of file). A
// removed sandbox is end of file; a follower that missed a rotation gets
// an error wrapping engine.ErrMissedRotation.
func (h *followHandle) Read(ctx context.Context, p []byte, off int64, nonblock bool) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: %w", off, errNegativeOffset)
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		changed := h.f.Changed() // taken before Advance: no wake-up is lost
		n, wait, err := h.try(p, off)
		if !wait {
			return n, err
		}
		if nonblock {
			return 0, syscall.EAGAIN
		}
		if done, err := h.wait(ctx, changed); done {
			return 0, err
		}
	}
}

// wait waits at the end for a change (false: try again), the request's
// interruption (EINTR), the shutdown or the handle's close (end of file).
func (h *followHandle) wait(ctx context.Context, changed <-chan struct{}) (done bool, err error) {
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	select {
	case <-changed:
		return false, nil
	case <-ctx.Done():
		return true, syscall.EINTR
	case <-h.fs.shutdown:
	case <-h.closed:
	}
	return true, nil
}

// try reads what the handle holds at off, taking in what was appended
// first if it holds nothing there. wait reports that there is nothing yet.
func (h *followHandle) try(p []byte, off int64) (n int, wait bool, err error) {
	h.live.RLock()
	defer h.live.RUnlock()
	if h.isClosed() {
		return 0, false, nil
	}
	for {
		if off < h.f.Size() {
			n, err := readAtNoEOF(h.f, p, off)
			return n, false, err
		}
		grew, err := h.f.Advance()
		if done, err := h.advanceErr(err); done {
			return 0, false, err
		}
		if !grew {
			return 0, !h.fs.shutDown(), nil
		}
	}
}

// advanceErr classifies an error of Advance: done reports whether the read
// ends with err (nil being end of file). Other errors are transient (a
// rotation in progress): the reader waits for the next change.
func (h *followHandle) advanceErr(err error) (done bool, _ error) {
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, engine.ErrRemoved):
		return true, nil
	case errors.Is(err, engine.ErrMissedRotation):
		slog.Warn("follower ends", "sandbox", h.sb.Name(), "err", err)
		return true, fmt.Errorf("follow %s: %w", h.sb.Name(), err)
	}
	slog.Debug("follow: advance", "sandbox", h.sb.Name(), "err", err)
	return false, nil
}

// Size returns the handle's current length, taking in what was appended
// first, so that a tool polling fstat (tail -f) sees the file grow.
func (h *followHandle) Size() int64 {
	h.live.RLock()
	defer h.live.RUnlock()
	if h.isClosed() {
		return 0
	}
	_, _ = h.f.Advance() // errors show at the next read
	return h.f.Size()
}

// Stat returns the handle's current length (see Size) and time.
func (h *followHandle) Stat() (int64, time.Time) { return h.Size(), h.ModTime() }

// ModTime returns the newest modification time of the files the handle
// has shown bytes of.
func (h *followHandle) ModTime() time.Time { return h.f.ModTime() }

func (h *followHandle) isClosed() bool {
	select {
	case <-h.closed:
		return true
	default:
		return false
	}
}

// Close ends the handle's blocked reads with end of file and releases its
// files.
func (h *followHandle) Close() error {
	h.live.Lock()
	defer h.live.Unlock()
	if h.isClosed() {
		return nil
	}
	close(h.closed)
	return h.f.Close()
}
