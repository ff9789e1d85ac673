package cursorfs

import (
	"errors"
	"io"
	iofs "io/fs"
	"syscall"

	"github.com/microsandbox/msb-logfs/engine"
)

// The errors of the filesystem, and the errno each stands for (Errno).
// Beside these, an error may wrap a syscall.Errno, which stands for
// itself: ENOENT for a name no directory holds, EROFS for a write refused
// at open, EBADF for a write to a read-only handle, EAGAIN and EINTR from
// a follow read, and those of the disk.
var (
	// errBadPosition: a seek write that names no position (EINVAL): an
	// empty line, several lines, or text that is neither a cursor, "start",
	// "end" nor an RFC 3339 time.
	errBadPosition = errors.New("not a position (a cursor, start, end or an RFC 3339 time)")
	// errNegativeOffset: a read before the start of a file (EINVAL).
	errNegativeOffset = errors.New("negative offset")
)

// Errno maps an error of the filesystem to the errno a system call
// returns: nil and io.EOF are 0, a syscall.Errno is itself, an invalid
// cursor, time or offset is EINVAL, a missing sandbox or session ENOENT,
// anything else EIO.
func Errno(err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return 0
	case errors.As(err, &errno):
		return errno
	case errors.Is(err, engine.ErrInvalidCursor), errors.Is(err, errBadPosition), errors.Is(err, errNegativeOffset):
		return syscall.EINVAL
	case errors.Is(err, engine.ErrNoSandbox), errors.Is(err, engine.ErrNoSession), errors.Is(err, iofs.ErrNotExist):
		return syscall.ENOENT
	}
	return syscall.EIO
}
