package fs

import (
	"context"
	"io"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// handle is an open file of a sandbox directory.
type handle interface {
	gofs.FileHandle
	gofs.FileReader
	gofs.FileReleaser
	setBase(n *fileNode, owner int)
	owner() int
	size() int64
	modTime() time.Time
}

// base is what every handle knows: its file and the process that opened it.
type base struct {
	node *fileNode
	proc int
}

func (b *base) setBase(n *fileNode, owner int) { b.node, b.proc = n, owner }

// release forgets handle h of b's node and closes its state.
func (b *base) release(h handle, c io.Closer) syscall.Errno {
	b.node.forget(h)
	return errnoOf(c.Close())
}

func (b *base) owner() int { return b.proc }

// readReply turns what a read into dest returned into FUSE's answer.
func readReply(dest []byte, n int, err error) (fuse.ReadResult, syscall.Errno) {
	if err != nil {
		return nil, errnoOf(err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// fixedContent is content fixed at open: a snapshot, cursor or
// boot-error.json.
type fixedContent interface {
	ReadAt(p []byte, off int64) (int, error)
	Size() int64
	ModTime() time.Time
	io.Closer
}

// readAtHandle serves fixed content at any offset.
type readAtHandle struct {
	base
	c fixedContent
}

func newReadAtHandle(c fixedContent) *readAtHandle { return &readAtHandle{c: c} }

func (h *readAtHandle) size() int64        { return h.c.Size() }
func (h *readAtHandle) modTime() time.Time { return h.c.ModTime() }

// Read reads at off.
func (h *readAtHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.c.ReadAt(dest, off)
	return readReply(dest, n, err)
}

// Release closes the content.
func (h *readAtHandle) Release(ctx context.Context) syscall.Errno {
	return h.release(h, h.c)
}

// followHandle serves a follow file: reads at the end block (or fail with
// EAGAIN under O_NONBLOCK) until more arrives.
type followHandle struct {
	base
	f *cursorfs.Follow
}

func (h *followHandle) size() int64        { return h.f.Size() }
func (h *followHandle) modTime() time.Time { return h.f.ModTime() }

// Read reads at off, blocking at the end; ctx is cancelled when the caller
// is interrupted by a signal.
func (h *followHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.f.Read(ctx, dest, off, h.node.st.rec.nonblock(ctx))
	return readReply(dest, n, err)
}

// Release ends the handle's blocked reads and frees its files.
func (h *followHandle) Release(ctx context.Context) syscall.Errno {
	return h.release(h, h.f)
}

// seekHandle serves seek: a stream whose position the server keeps.
type seekHandle struct {
	base
	s *cursorfs.Seek
}

var _ gofs.FileWriter = (*seekHandle)(nil)

func (h *seekHandle) size() int64 { return 0 }

func (h *seekHandle) modTime() time.Time {
	_, mt, _ := h.node.stat()
	return mt
}

// Read renders merged.jsonl from the handle's position; the offset of a
// stream is meaningless and ignored.
func (h *seekHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n, err := h.s.Read(dest)
	return readReply(dest, n, err)
}

// Write repositions the handle by one line; EINVAL leaves it in place.
func (h *seekHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if err := h.s.Write(data); err != nil {
		return 0, errnoOf(err)
	}
	return uint32(len(data)), 0
}

// Release frees the handle's files.
func (h *seekHandle) Release(ctx context.Context) syscall.Errno {
	return h.release(h, h.s)
}
