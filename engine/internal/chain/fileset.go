package chain

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"golang.org/x/sys/unix"
)

// FileSet is the sandbox's log files as they were at one moment: the exec
// chain oldest first and the two text logs, each bounded by its size then.
// It holds a reference to every file, so its bytes stay readable after a
// rotation removes a name.
type FileSet struct {
	table *FileTable
	Chain []FileRef
	Names []int                         // chain[i] was opened as ChainName(names[i])
	Text  [logline.NumOrigins][]FileRef // runtime and kernel: zero or one file
	at    time.Time                     // taken before the first stat of the set's files
}

// OpenFileSet opens the current files of the sandbox. The names are opened
// one by one; if the chain rotated meanwhile, it tries again, so that the set
// never misses a file. Whether it rotated is told by the logs directory's
// times when they had settled before the set was opened (see dirTimes),
// else by a stat of every name of the chain.
func OpenFileSet(t *FileTable) (*FileSet, error) {
	for range 10 {
		before, statted := t.logsDirTimes()
		s, err := openFileSetOnce(t)
		if err != nil {
			return s, err
		}
		if statted && before.settled(s.at, t.margin) && t.logsDirStill(before) || s.chainStillNamed() {
			return s, nil
		}
		s.Release()
	}
	return nil, fmt.Errorf("sandbox %s: exec.log keeps rotating while it is opened", t.name)
}

// walkHook, when set, is called with each name of the chain before its
// lookup: a test rotates the chain in the middle of a set's open with it.
// Set only while no set is being opened.
var walkHook func(name string)

// dirTimes is what a stat of a logs directory tells of its names: a
// rename, link, unlink or creation in it sets its mtime and ctime to the
// time of the change, and user space cannot set a ctime. So a directory
// whose times had settled (changed last a margin before a moment) and
// are the same later had no name changed in between; with unsettled
// times, a change in the same tick of the filesystem's clock as the last
// one could leave them as they were.
type dirTimes struct {
	ino          uint64
	mtime, ctime unix.StatxTimestamp
}

// dirTimesMask is what logsDirTimes needs statx to fill.
const dirTimesMask = unix.STATX_TYPE | unix.STATX_INO | unix.STATX_MTIME | unix.STATX_CTIME

// logsDirTimes returns the times of the sandbox's logs directory now;
// false when it cannot tell them.
func (t *FileTable) logsDirTimes() (dirTimes, bool) {
	var stx unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, t.logs, unix.AT_SYMLINK_NOFOLLOW, dirTimesMask, &stx)
	if err != nil || stx.Mask&dirTimesMask != dirTimesMask || stx.Mode&unix.S_IFMT != unix.S_IFDIR {
		return dirTimes{}, false
	}
	return dirTimes{ino: stx.Ino, mtime: stx.Mtime, ctime: stx.Ctime}, true
}

// logsDirStill reports whether the logs directory's times are still d.
func (t *FileTable) logsDirStill(d dirTimes) bool {
	now, ok := t.logsDirTimes()
	return ok && now == d
}

// settled reports whether the directory's names changed last margin or
// more before at.
func (d dirTimes) settled(at time.Time, margin time.Duration) bool {
	limit := at.Add(-margin)
	older := func(ts unix.StatxTimestamp) bool {
		return ts.Sec < limit.Unix() || ts.Sec == limit.Unix() && int64(ts.Nsec) < int64(limit.Nanosecond())
	}
	return margin > 0 && older(d.mtime) && older(d.ctime)
}

// chainStillNamed reports whether every name of the chain still names the
// file that was opened under it.
func (s *FileSet) chainStillNamed() bool {
	var want [ChainLen]uint64
	for i, n := range s.Names {
		want[n] = s.Chain[i].Gen
	}
	for n := range ChainLen {
		var st unix.Stat_t
		err := unix.Fstatat(unix.AT_FDCWD, s.table.Path(ChainName(n)), &st, unix.AT_SYMLINK_NOFOLLOW)
		named := err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG // the set skips any other kind
		if named != (want[n] != 0) || (named && st.Ino != want[n]) {
			return false
		}
	}
	return true
}

// ExecStillNamed reports whether exec.log names the file the set opened
// under that name (no rotation since), or, if the set had none, still
// names no file. Inode numbers tell: the set holds its exec.log open, so
// its number cannot have been given to another file.
func (s *FileSet) ExecStillNamed() bool {
	var want uint64
	for i, n := range s.Names {
		if n == 0 {
			want = s.Chain[i].Gen
		}
	}
	var st unix.Stat_t
	err := unix.Fstatat(unix.AT_FDCWD, s.table.Path(ExecLogName), &st, unix.AT_SYMLINK_NOFOLLOW)
	named := err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG // the set skips any other kind
	return named == (want != 0) && (!named || st.Ino == want)
}

func openFileSetOnce(t *FileTable) (*FileSet, error) {
	dir, err := t.openRoot()
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	s := &FileSet{table: t, at: time.Now()}
	for i := ChainLen - 1; i >= 0; i-- {
		if walkHook != nil {
			walkHook(ChainName(i))
		}
		f, err := t.lookup(dir, ChainName(i))
		if t.skip(ChainName(i), err) {
			continue
		}
		if err != nil {
			s.Release()
			return nil, err
		}
		s.Chain = append(s.Chain, f)
		s.Names = append(s.Names, i)
	}
	for o, name := range [logline.NumOrigins]string{logline.OriginRuntime: RuntimeLogName, logline.OriginKernel: KernelLogName} {
		if name == "" {
			continue
		}
		f, err := t.lookup(dir, name)
		if t.skip(name, err) {
			continue
		}
		if err != nil {
			s.Release()
			return nil, err
		}
		s.Text[o] = []FileRef{f}
	}
	return s, nil
}

// irregularError is a log name that is not a regular file: a FIFO, a
// directory, a socket, a device or a symbolic link. The set skips it.
type irregularError struct {
	path string
	id   FileID
	mode uint32
}

func (e *irregularError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.path, fileKind(e.mode), errNotRegular)
}

func (e *irregularError) Unwrap() error { return errNotRegular }

// fileKind names the file type of a stat mode.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFLNK:
		return "a symbolic link"
	}
	return fmt.Sprintf("of type %#o", mode&unix.S_IFMT)
}

// skip reports whether the lookup of name left it out of the set: it does
// not exist, or it is not a regular file. The latter is logged once per
// file identity at that name.
func (t *FileTable) skip(name string, err error) bool {
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	var irr *irregularError
	if !errors.As(err, &irr) {
		return false
	}
	t.mu.Lock()
	seen, ok := t.irregular[name]
	t.irregular[name] = irr.id
	t.mu.Unlock()
	if !ok || seen != irr.id {
		slog.Warn("skipping a log file that is not a regular file", "sandbox", t.name, "err", irr)
	}
	return true
}

// Origin returns the bounded files of origin o.
func (s *FileSet) Origin(o logline.Origin) []FileRef {
	if o == logline.OriginExec {
		return s.Chain
	}
	return s.Text[o]
}

// Clone returns a copy holding its own references.
func (s *FileSet) Clone() *FileSet {
	c := &FileSet{table: s.table, Chain: append([]FileRef(nil), s.Chain...), Names: s.Names, at: s.at}
	for o := range s.Text {
		c.Text[o] = append([]FileRef(nil), s.Text[o]...)
	}
	c.each(func(f FileRef) { s.table.acquire(f.logFile) })
	return c
}

// Release drops the set's references.
func (s *FileSet) Release() {
	if s == nil {
		return
	}
	s.each(func(f FileRef) { s.table.release(f.logFile) })
	s.Chain = nil
	s.Text = [logline.NumOrigins][]FileRef{}
}

func (s *FileSet) each(fn func(FileRef)) {
	for _, f := range s.Chain {
		fn(f)
	}
	for _, fl := range s.Text {
		for _, f := range fl {
			fn(f)
		}
	}
}

// ModTime returns the newest mtime of the files a stream of mask reads.
func (s *FileSet) ModTime(mask logline.SourceMask) time.Time {
	return s.newest(mask, func(f FileRef) time.Time { return f.mtime })
}

// newest returns the newest of the times at gives of the files a stream
// of mask reads.
func (s *FileSet) newest(mask logline.SourceMask, at func(FileRef) time.Time) time.Time {
	var t time.Time
	s.eachOf(mask, func(f FileRef) {
		if ft := at(f); ft.After(t) {
			t = ft
		}
	})
	return t
}

// Input returns the bytes of the files a stream of mask reads, below the
// set's bounds.
func (s *FileSet) Input(mask logline.SourceMask) int64 {
	var n int64
	s.eachOf(mask, func(f FileRef) { n += max(f.Size, 0) })
	return n
}

// eachOf calls fn for each file a stream of mask reads: the exec chain's,
// and the text origins' when mask has them.
func (s *FileSet) eachOf(mask logline.SourceMask, fn func(FileRef)) {
	if mask.TextOrigins() {
		s.each(fn)
		return
	}
	for _, f := range s.Chain {
		fn(f)
	}
}

// SameAs reports whether s and o bound the same files at the same sizes
// and times: a file rewritten in place at its size shows a new time, so
// the state shown moves (and a cache of the old one is never taken for
// it).
func (s *FileSet) SameAs(o *FileSet) bool {
	if len(s.Chain) != len(o.Chain) {
		return false
	}
	for i := range s.Chain {
		if !s.Chain[i].same(o.Chain[i]) {
			return false
		}
	}
	for k := range s.Text {
		a, b := s.Text[k], o.Text[k]
		if len(a) != len(b) || (len(a) == 1 && !a[0].same(b[0])) {
			return false
		}
	}
	return true
}

// same reports whether f and o are one file at one size and time.
func (f FileRef) same(o FileRef) bool {
	return f.Gen == o.Gen && f.Size == o.Size && f.mtime.Equal(o.mtime)
}

// HoldsOutside reports whether s holds a file that cur does not: one that
// a rotation dropped, or a text log replaced, since s was opened.
func (s *FileSet) HoldsOutside(cur *FileSet) bool {
	outside := false
	s.each(func(f FileRef) { outside = outside || !cur.holds(f.logFile) })
	return outside
}

// holds reports whether lf is one of s's files.
func (s *FileSet) holds(lf *logFile) bool {
	found := false
	s.each(func(f FileRef) { found = found || f.logFile == lf })
	return found
}

// OpenFile names one open file of a table: two are equal when they are
// the same file. Keeping one keeps no descriptor.
type OpenFile struct{ f *logFile }

// Opened returns s's files, in the set's order.
func (s *FileSet) Opened() []OpenFile {
	var ids []OpenFile
	s.each(func(f FileRef) { ids = append(ids, OpenFile{f.logFile}) })
	return ids
}
