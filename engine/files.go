package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"golang.org/x/sys/unix"
)

// Names of the files in a sandbox's logs directory.
const (
	ExecLogName    = "exec.log"
	RuntimeLogName = "runtime.log"
	KernelLogName  = "kernel.log"
	BootErrorName  = "boot-error.json"
	// ChainLen is how many exec files microsandbox keeps: exec.log and
	// exec.log.1 … exec.log.4.
	ChainLen = 5
)

// chainName returns the name of the i-th newest exec file (0 is exec.log).
func chainName(i int) string {
	if i == 0 {
		return ExecLogName
	}
	return fmt.Sprintf("%s.%d", ExecLogName, i)
}

// logFile is one open log file, shared by every reader of it.
type logFile struct {
	f     *os.File
	gen   uint64 // inode number
	id    fileID
	birth Time // birth time, else mtime at open
	refs  int  // guarded by fileTable.mu
}

// fileRef is a logFile as it was seen at one moment: its size then bounds
// what a reader of that moment consumes.
type fileRef struct {
	*logFile
	size  int64
	mtime time.Time
}

// fileTable opens the log files of one sandbox. Files are keyed by inode:
// while a file is held its inode cannot be reused, so every handle that
// reads the same file shares one descriptor. Files are opened with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS below <home>/sandboxes, so a symbolic
// link anywhere on the way is refused.
type fileTable struct {
	root string // <home>/sandboxes
	name string // sandbox name
	mu   sync.Mutex
	byID map[fileID]*logFile
	// irregular holds, per log name, the identity of the file last reported
	// as not regular, so that each is logged once (at most one per name).
	irregular map[string]fileID
	// reclaim frees descriptors held by idle state; an open that fails
	// with EMFILE or ENFILE calls it and tries once more.
	reclaim func()
}

// fileID identifies a file: its device and inode number.
type fileID struct {
	major, minor uint32
	ino          uint64
}

func newFileTable(root, name string) *fileTable {
	return &fileTable{root: root, name: name, byID: make(map[fileID]*logFile), irregular: make(map[string]fileID)}
}

// path returns the path of logs/<file>, for messages and checks.
func (t *fileTable) path(file string) string {
	return filepath.Join(t.root, t.name, "logs", file)
}

// errNotRegular is returned for a log name that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// openRoot opens <home>/sandboxes, the directory every file is opened
// beneath.
func (t *fileTable) openRoot() (int, error) {
	dir, err := retryFD(t.reclaim, func() (int, error) {
		return unix.Open(t.root, unix.O_DIRECTORY|unix.O_PATH|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: t.root, Err: err}
	}
	return dir, nil
}

// lookup returns logs/<file> of the sandbox with one reference, or
// fs.ErrNotExist. A file the table holds already is recognised by one stat
// of its name (its device and inode); any other is opened. Only files
// opened by open are ever read, so a stat that a symbolic link led astray
// can at most name a file the table opened safely itself.
func (t *fileTable) lookup(dir int, file string) (fileRef, error) {
	var st unix.Stat_t
	err := unix.Fstatat(dir, filepath.Join(t.name, "logs", file), &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOENT {
		return fileRef{}, fs.ErrNotExist
	}
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG { // never opened: a FIFO could block
		id := fileID{major: unix.Major(st.Dev), minor: unix.Minor(st.Dev), ino: st.Ino}
		return fileRef{}, &irregularError{path: t.path(file), id: id, mode: st.Mode}
	}
	if err == nil {
		id := fileID{major: unix.Major(st.Dev), minor: unix.Minor(st.Dev), ino: st.Ino}
		t.mu.Lock()
		lf := t.byID[id]
		if lf != nil {
			lf.refs++
			t.mu.Unlock()
			return fileRef{logFile: lf, size: st.Size, mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec)}, nil
		}
		t.mu.Unlock()
	}
	return t.open(dir, file)
}

// open opens logs/<file> of the sandbox beneath dir (from openRoot) and
// returns it with one reference, or fs.ErrNotExist.
func (t *fileTable) open(dir int, file string) (fileRef, error) {
	rel := filepath.Join(t.name, "logs", file)
	fd, err := retryFD(t.reclaim, func() (int, error) {
		return unix.Openat2(dir, rel, &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOFOLLOW,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
	})
	if err != nil {
		if err == unix.ENOENT {
			return fileRef{}, fs.ErrNotExist
		}
		return fileRef{}, &fs.PathError{Op: "open", Path: filepath.Join(t.root, rel), Err: err}
	}
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &stx); err != nil {
		unix.Close(fd)
		return fileRef{}, &fs.PathError{Op: "statx", Path: filepath.Join(t.root, rel), Err: err}
	}
	id := fileID{major: stx.Dev_major, minor: stx.Dev_minor, ino: stx.Ino}
	if stx.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return fileRef{}, &irregularError{path: t.path(file), id: id, mode: uint32(stx.Mode)}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	lf := t.byID[id]
	if lf != nil {
		unix.Close(fd)
	} else {
		lf = &logFile{f: os.NewFile(uintptr(fd), filepath.Join(t.root, rel)), gen: stx.Ino, id: id}
		lf.birth = fileTime(stx.Mtime)
		if stx.Mask&unix.STATX_BTIME != 0 && stx.Btime.Sec != 0 {
			lf.birth = fileTime(stx.Btime)
		}
		t.byID[id] = lf
	}
	lf.refs++
	return fileRef{logFile: lf, size: int64(stx.Size), mtime: time.Unix(stx.Mtime.Sec, int64(stx.Mtime.Nsec))}, nil
}

// acquire takes one more reference to lf.
func (t *fileTable) acquire(lf *logFile) {
	t.mu.Lock()
	lf.refs++
	t.mu.Unlock()
}

// release drops one reference and closes the file after the last.
func (t *fileTable) release(lf *logFile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lf.refs--
	if lf.refs == 0 {
		delete(t.byID, lf.id)
		lf.f.Close()
	}
}

// statxTime returns a file time in Unix nanoseconds (wrapping outside
// 1678–2262: it only identifies a directory).
func statxTime(ts unix.StatxTimestamp) int64 {
	return ts.Sec*1e9 + int64(ts.Nsec)
}

// fileTime returns a file time as a Time a rendering can show.
func fileTime(ts unix.StatxTimestamp) Time {
	return logline.ClampTime(Time{Sec: ts.Sec, Nsec: min(ts.Nsec, 1e9-1)})
}
