package fs

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// recorder wraps the fuse.RawFileSystem of the node tree to keep what the
// node API hides from handlers: the flags of a READ (O_NONBLOCK, set by
// fcntl after the open, arrives only there) and whether a GETATTR named a
// file handle (without one, go-fuse hands the node an arbitrary open
// handle). Each request is identified by its cancel channel, which the
// handler sees as ctx.Done() and which is unique among requests in flight.
// It also answers FLUSH itself, and serves the directory reads of a
// kernel told to open no directory (dirreads.go).
type recorder struct {
	fuse.RawFileSystem

	mu       sync.Mutex
	reads    map[<-chan struct{}]uint32 // READ: ReadIn.Flags
	getattrs map[<-chan struct{}]bool   // GETATTR: a file handle was given
	flushes  atomic.Int64               // FLUSH requests answered
	dirs     dirReads
}

func newRecorder(raw fuse.RawFileSystem) *recorder {
	return &recorder{
		RawFileSystem: raw,
		dirs:          dirReads{raw: raw},
		reads:         make(map[<-chan struct{}]uint32),
		getattrs:      make(map[<-chan struct{}]bool),
	}
}

// Read records the request's flags for the duration of the read.
func (r *recorder) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	r.mu.Lock()
	r.reads[cancel] = in.Flags
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.reads, cancel)
		r.mu.Unlock()
	}()
	return r.RawFileSystem.Read(cancel, in, buf)
}

// GetAttr records whether the request names a file handle.
func (r *recorder) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	r.mu.Lock()
	r.getattrs[cancel] = in.Flags()&fuse.FUSE_GETATTR_FH != 0
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.getattrs, cancel)
		r.mu.Unlock()
	}()
	return r.RawFileSystem.GetAttr(cancel, in, out)
}

// Flush answers ENOSYS: a read-only file system has nothing to flush
// (seek's writes take effect when written), and the kernel then sends no
// FLUSH at any later close of this mount, where close(2) returns 0.
func (r *recorder) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	r.flushes.Add(1)
	return fuse.ENOSYS
}

// OpenDir answers ENOSYS: the kernel then opens no directory for the
// mount's life (no OPENDIR, no RELEASEDIR), keeps listings, and reads
// directories with handle 0 (dirReads).
func (r *recorder) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return fuse.ENOSYS
}

// ReadDir serves a READDIR of handle 0.
func (r *recorder) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return r.dirs.read(cancel, in, out, r.RawFileSystem.ReadDir)
}

// ReadDirPlus serves a READDIRPLUS of handle 0.
func (r *recorder) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return r.dirs.read(cancel, in, out, r.RawFileSystem.ReadDirPlus)
}

// inFlight returns the number of READ requests being served.
func (r *recorder) inFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reads)
}

// nonblock reports whether the READ being served in ctx has O_NONBLOCK.
func (r *recorder) nonblock(ctx context.Context) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads[ctx.Done()]&syscall.O_NONBLOCK != 0
}

// namedHandle reports whether the GETATTR being served in ctx named its
// file handle (an lseek or a read asking for the size); a plain stat or
// fstat does not.
func (r *recorder) namedHandle(ctx context.Context) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.getattrs[ctx.Done()]
}
