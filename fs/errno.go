package fs

import (
	"log/slog"
	"syscall"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// translateError maps an error of cursorfs to the errno FUSE returns
// (cursorfs.Errno holds the list), logging the unexpected ones (EIO).
func translateError(err error) syscall.Errno {
	errno := cursorfs.Errno(err)
	if errno == syscall.EIO {
		slog.Warn("msb-logfs", "err", err)
	}
	return errno
}
