package chain

import (
	"errors"
	"fmt"
	"io/fs"
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

// chainNames are the names of the exec chain, newest first.
var chainNames = [ChainLen]string{ExecLogName, ExecLogName + ".1", ExecLogName + ".2", ExecLogName + ".3", ExecLogName + ".4"}

// ChainName returns the name of the i-th newest exec file (0 is exec.log).
func ChainName(i int) string {
	if i >= 0 && i < ChainLen {
		return chainNames[i]
	}
	return fmt.Sprintf("%s.%d", ExecLogName, i)
}

// logFile is one open log file, shared by every reader of it.
type logFile struct {
	File  *ReadFile
	Gen   uint64 // inode number
	ID    FileID
	Birth logline.Time // birth time, else mtime at open
	refs  int          // guarded by FileTable.mu
}

// FileRef is a logFile as it was seen at one moment: its size then bounds
// what a reader of that moment consumes.
type FileRef struct {
	*logFile
	Size  int64
	mtime time.Time
	ctime unix.Timespec // the last change of the inode, as the stat saw it
}

// FileTable opens the log files of one sandbox. Files are keyed by inode:
// while a file is held its inode cannot be reused, so every handle that
// reads the same file shares one descriptor. Files are opened with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS below <home>/sandboxes, so a symbolic
// link anywhere on the way is refused.
type FileTable struct {
	root string // <home>/sandboxes
	name string // sandbox name
	logs string // <root>/<name>/logs
	// margin is how long before a set is opened the logs directory's
	// times must have changed last for them to tell that no name changed
	// while it was opened (dirTimes); 0: they never tell.
	margin time.Duration
	mu     sync.Mutex
	byID   map[FileID]*logFile
	// irregular holds, per log name, the identity of the file last reported
	// as not regular, so that each is logged once (at most one per name).
	irregular map[string]FileID
	// reclaim frees descriptors held by idle state; an open that fails
	// with EMFILE or ENFILE calls it and tries once more.
	reclaim func()
}

// FileID identifies a file: its device and inode number.
type FileID struct {
	Major, Minor uint32
	Ino          uint64
}

// NewFileTable returns the table of sandbox name's files below root; an
// open that runs out of descriptors calls reclaim (if not nil) and tries
// once more.
func NewFileTable(root, name string, reclaim func()) *FileTable {
	return &FileTable{root: root, name: name, logs: filepath.Join(root, name, "logs"), byID: make(map[FileID]*logFile), irregular: make(map[string]FileID), reclaim: reclaim}
}

// SetRacyMargin sets how long before a set is opened the logs directory's
// times must have changed last for them to vouch for its names (see
// dirTimes); 0, the default, makes every open stat each name twice. Call
// it before the table is used.
func (t *FileTable) SetRacyMargin(margin time.Duration) { t.margin = max(margin, 0) }

// Path returns the path of logs/<file> (a log name), for messages and
// checks; Path("") is the logs directory.
func (t *FileTable) Path(file string) string {
	if file == "" {
		return t.logs
	}
	return t.logs + "/" + file
}

// errNotRegular is returned for a log name that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// openRoot opens <home>/sandboxes, the directory every file is opened
// beneath.
func (t *FileTable) openRoot() (int, error) {
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
func (t *FileTable) lookup(dir int, file string) (FileRef, error) {
	rel := t.name + "/logs/" + file
	var st unix.Stat_t
	err := unix.Fstatat(dir, rel, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOENT {
		return FileRef{}, fs.ErrNotExist
	}
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG { // never opened: a FIFO could block
		id := FileID{Major: unix.Major(st.Dev), Minor: unix.Minor(st.Dev), Ino: st.Ino}
		return FileRef{}, &irregularError{path: t.Path(file), id: id, mode: st.Mode}
	}
	if err == nil {
		id := FileID{Major: unix.Major(st.Dev), Minor: unix.Minor(st.Dev), Ino: st.Ino}
		t.mu.Lock()
		lf := t.byID[id]
		if lf != nil {
			lf.refs++
			t.mu.Unlock()
			return FileRef{logFile: lf, Size: st.Size, mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec), ctime: st.Ctim}, nil
		}
		t.mu.Unlock()
	}
	return t.open(dir, rel, file)
}

// open opens rel, logs/<file> of the sandbox beneath dir (from openRoot),
// and returns it with one reference, or fs.ErrNotExist.
func (t *FileTable) open(dir int, rel, file string) (FileRef, error) {
	fd, err := retryFD(t.reclaim, func() (int, error) {
		return unix.Openat2(dir, rel, &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOFOLLOW,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
	})
	if err != nil {
		if err == unix.ENOENT {
			return FileRef{}, fs.ErrNotExist
		}
		return FileRef{}, &fs.PathError{Op: "open", Path: t.root + "/" + rel, Err: err}
	}
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &stx); err != nil {
		unix.Close(fd)
		return FileRef{}, &fs.PathError{Op: "statx", Path: t.root + "/" + rel, Err: err}
	}
	id := FileID{Major: stx.Dev_major, Minor: stx.Dev_minor, Ino: stx.Ino}
	if stx.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return FileRef{}, &irregularError{path: t.Path(file), id: id, mode: uint32(stx.Mode)}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	lf := t.byID[id]
	if lf != nil {
		unix.Close(fd)
	} else {
		lf = &logFile{File: newReadFile(fd, t.root+"/"+rel), Gen: stx.Ino, ID: id}
		lf.Birth = fileTime(stx.Mtime)
		if stx.Mask&unix.STATX_BTIME != 0 && stx.Btime.Sec != 0 {
			lf.Birth = fileTime(stx.Btime)
		}
		t.byID[id] = lf
	}
	lf.refs++
	return FileRef{logFile: lf, Size: int64(stx.Size), mtime: time.Unix(stx.Mtime.Sec, int64(stx.Mtime.Nsec)),
		ctime: unix.Timespec{Sec: stx.Ctime.Sec, Nsec: int64(stx.Ctime.Nsec)}}, nil
}

// acquire takes one more reference to lf.
func (t *FileTable) acquire(lf *logFile) {
	t.mu.Lock()
	lf.refs++
	t.mu.Unlock()
}

// release drops one reference and closes the file after the last.
func (t *FileTable) release(lf *logFile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lf.refs--
	if lf.refs == 0 {
		delete(t.byID, lf.ID)
		lf.File.Close()
	}
}

// Held returns how many files the table holds open.
func (t *FileTable) Held() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// StatxTime returns a file time in Unix nanoseconds (wrapping outside
// 1678–2262: it only identifies a directory).
func StatxTime(ts unix.StatxTimestamp) int64 {
	return ts.Sec*1e9 + int64(ts.Nsec)
}

// fileTime returns a file time as a Time a rendering can show.
func fileTime(ts unix.StatxTimestamp) logline.Time {
	return logline.ClampTime(logline.Time{Sec: ts.Sec, Nsec: min(ts.Nsec, 1e9-1)})
}

// fdShortage reports whether err says the process or the system ran out
// of file descriptors.
func fdShortage(err error) bool {
	return errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE)
}

// retryFD runs open, and once more after reclaim if it failed for want of
// descriptors.
func retryFD(reclaim func(), open func() (int, error)) (int, error) {
	fd, err := open()
	if err != nil && fdShortage(err) && reclaim != nil {
		reclaim()
		fd, err = open()
	}
	return fd, err
}
