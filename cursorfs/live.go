package cursorfs

import (
	"context"
	"fmt"

	"github.com/microsandbox/msb-logfs/engine"
)

// liveHandle is an open live file (X.live): the bytes of a follow handle, but
// a read at the end returns end of file at once, and Stat gives the bytes
// available to the handle now. It behaves like a log file being appended to,
// for tools that read to end of file and then poll the size (lnav, Fluent
// Bit, Promtail). Safe for concurrent use.
type liveHandle struct {
	*followHandle
}

// openLive opens view v of sb as a live file.
func (fs *FS) openLive(sb *engine.Sandbox, v engine.View) (*liveHandle, error) {
	f, err := fs.openFollow(sb, v)
	if err != nil {
		return nil, err
	}
	return &liveHandle{followHandle: f}, nil
}

// Read reads at off. Below the handle's current length it returns at once;
// at the end it takes in what was appended, and returns 0 (end of file) if
// there is still nothing. It never blocks: ctx and nonblock do not matter.
func (h *liveHandle) Read(_ context.Context, p []byte, off int64, _ bool) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: %w", off, errNegativeOffset)
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, _, err := h.try(p, off)
	return n, err
}
