package cursorfs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/microsandbox/msb-logfs/engine"
)

// cursorSize is the length of the cursor file: an encoded cursor and "\n".
var cursorSize = int64(engine.CursorLen + 1)

// openCursor returns the content of the cursor file: the cursor at the
// current end of the merged view and a newline.
func openCursor(sb *engine.Sandbox) (*bytesHandle, error) {
	side := sb.ToOpen()
	st, err := side.EndState()
	if err != nil {
		return nil, fmt.Errorf("cursor of %s: %w", sb.Name(), err)
	}
	c := st.Cursor
	mt, err := side.ModTime()
	if err != nil {
		return nil, fmt.Errorf("cursor of %s: %w", sb.Name(), err)
	}
	return newBytes(append(c.AppendText(nil), '\n'), mt), nil
}

// maxBootError bounds what is read of boot-error.json.
const maxBootError = 16 << 20

// statBootError returns the size and mtime of the sandbox's boot-error.json,
// or an error wrapping fs.ErrNotExist when it has none. A name that is a
// symbolic link or not a regular file counts as missing.
func statBootError(home *engine.Home, sandbox string) (int64, time.Time, error) {
	f, err := openBeneath(home.SandboxesDir(), bootErrorRel(sandbox), unix.O_PATH)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer f.Close()
	fi, err := regular(f)
	if err != nil {
		return 0, time.Time{}, err
	}
	return fi.Size(), fi.ModTime(), nil
}

// openBootError reads the sandbox's boot-error.json. It is opened below
// <home>/sandboxes without following any symbolic link.
func openBootError(home *engine.Home, sandbox string) (*bytesHandle, error) {
	f, err := openBeneath(home.SandboxesDir(), bootErrorRel(sandbox), unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := regular(f)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBootError))
	if err != nil {
		return nil, fmt.Errorf("boot error of %s: %w", sandbox, err)
	}
	return newBytes(data, fi.ModTime()), nil
}

func bootErrorRel(sandbox string) string {
	return filepath.Join(sandbox, "logs", engine.BootErrorName)
}

// regular returns f's FileInfo, or ENOENT if f is not a regular file.
func regular(f *os.File) (os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: f.Name(), Err: syscall.ENOENT}
	}
	return fi, nil
}

// openBeneath opens root/rel with flags, refusing symbolic links and any
// path that leaves root.
func openBeneath(root, rel string, flags int) (*os.File, error) {
	dir, err := unix.Open(root, unix.O_DIRECTORY|unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, rel, &unix.OpenHow{
		Flags:   uint64(flags) | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(root, rel), Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(root, rel)), nil
}
