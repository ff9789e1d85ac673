package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// handle is an open file: a cursorfs.Handle, the node of a file whose
// fstat needs it (nil for a state's node, whose attributes are its own),
// and the thread that opened it.
type handle struct {
	h      cursorfs.Handle
	st     *state
	node   *fileNode
	opener opener
}

var (
	_ gofs.FileReader   = (*handle)(nil)
	_ gofs.FileWriter   = (*handle)(nil)
	_ gofs.FileReleaser = (*handle)(nil)
)

// Read reads at off; ctx is cancelled when the caller is interrupted by a
// signal, and the request's O_NONBLOCK comes from the recorder.
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.h.Read(ctx, dest, off, h.st.rec.nonblock(ctx))
	if err != nil {
		return nil, translateError(err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// Write writes data (seek: one line that repositions the handle).
func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, err := h.h.Write(data)
	if err != nil {
		return 0, translateError(err)
	}
	return uint32(n), 0
}

// Release forgets the handle and closes it, ending its blocked reads.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	if h.node != nil {
		h.node.forget(h)
	}
	return translateError(h.h.Close())
}
