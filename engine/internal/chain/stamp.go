package chain

import (
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"golang.org/x/sys/unix"
)

// fileStamp is what a stat tells of one log name: its file's identity,
// size and times. The zero fileStamp is a name with no regular file.
type fileStamp struct {
	id           FileID
	size         int64
	mtime, ctime unix.Timespec
}

// stampNames are the log names of a stamp, in its order.
var stampNames = [ChainLen + 2]string{ExecLogName, ExecLogName + ".1", ExecLogName + ".2", ExecLogName + ".3",
	ExecLogName + ".4", RuntimeLogName, KernelLogName}

// Stamp is a sandbox's log names as stat shows them. Two equal stamps
// whose files changed last RacyMargin before the first was taken name the
// same bytes: any write, truncation, rename or chmod since sets a file's
// change time to a later one.
type Stamp [len(stampNames)]fileStamp

// ProbeStamp stats the sandbox's log names (opening none). A name whose
// stat fails other than by its absence makes ok false.
func ProbeStamp(t *FileTable) (st Stamp, ok bool) {
	dir := t.Path("") + "/"
	for i, name := range stampNames {
		var sx unix.Stat_t
		err := unix.Fstatat(unix.AT_FDCWD, dir+name, &sx, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.ENOENT {
			continue
		}
		if err != nil {
			return st, false
		}
		if sx.Mode&unix.S_IFMT != unix.S_IFREG { // the set skips it
			continue
		}
		st[i] = fileStamp{id: FileID{Major: unix.Major(sx.Dev), Minor: unix.Minor(sx.Dev), Ino: sx.Ino},
			size: sx.Size, mtime: sx.Mtim, ctime: sx.Ctim}
	}
	return st, true
}

// Stamp returns the stamp of the files of s as their stats showed them.
func (s *FileSet) Stamp() Stamp {
	var st Stamp
	for i, f := range s.Chain {
		st[s.Names[i]] = f.stamp()
	}
	for o, name := range textStampSlots {
		if len(s.Text[o]) == 1 && name > 0 {
			st[name] = s.Text[o][0].stamp()
		}
	}
	return st
}

// textStampSlots is where each text origin's file is in a stamp (0: none).
var textStampSlots = [logline.NumOrigins]int{logline.OriginRuntime: ChainLen, logline.OriginKernel: ChainLen + 1}

func (f FileRef) stamp() fileStamp {
	return fileStamp{id: f.ID, size: f.Size, mtime: unix.Timespec{Sec: f.mtime.Unix(), Nsec: int64(f.mtime.Nanosecond())}, ctime: f.ctime}
}

// Settled reports whether every file of st changed last margin or more
// before at, so that st vouches for their bytes from then on.
func (st *Stamp) Settled(at time.Time, margin time.Duration) bool {
	limit := at.Add(-margin)
	for i := range st {
		f := &st[i]
		if f.id != (FileID{}) && (!before(f.ctime, limit) || !before(f.mtime, limit)) {
			return false
		}
	}
	return true
}

// before reports whether ts is before t.
func before(ts unix.Timespec, t time.Time) bool {
	return ts.Sec < t.Unix() || ts.Sec == t.Unix() && ts.Nsec < int64(t.Nanosecond())
}

// ModTime returns the newest mtime of the files a stream of mask reads,
// as FileSet.ModTime does.
func (st *Stamp) ModTime(mask logline.SourceMask) time.Time {
	return st.newest(mask, func(f *fileStamp) unix.Timespec { return f.mtime })
}

// BoundTo bounds s to st, the stamp a stat showed just before s was
// opened, so that an open shows what that stat showed: each file st names
// must be in s (by identity) at least as large, and is bounded by its size
// and mtime in st; a file of s that st does not name (made since) is left
// out. When that cannot be (a file of st left or shrank), s is left as it
// is and BoundTo returns false. Change times stay as s saw them, so that
// the bounded set's stamp is not taken for st.
func (s *FileSet) BoundTo(st *Stamp) bool {
	find := func(f FileRef) (int, bool) {
		for i := range st {
			if st[i].id != (FileID{}) && st[i].id == f.ID {
				return i, true
			}
		}
		return 0, false
	}
	var chain []FileRef
	var names []int
	var text [logline.NumOrigins][]FileRef
	found := 0
	for _, f := range s.Chain {
		if i, ok := find(f); ok && i < ChainLen && f.Size >= st[i].size {
			chain, names = append(chain, st[i].bound(f)), append(names, i)
			found++
		}
	}
	for o, name := range textStampSlots {
		if name > 0 && len(s.Text[o]) == 1 && s.Text[o][0].ID == st[name].id && s.Text[o][0].Size >= st[name].size {
			text[o] = []FileRef{st[name].bound(s.Text[o][0])}
			found++
		}
	}
	want := 0
	for i := range st {
		if st[i].id != (FileID{}) {
			want++
		}
	}
	if found != want {
		return false
	}
	var drop []FileRef
	s.each(func(f FileRef) {
		if _, ok := find(f); !ok {
			drop = append(drop, f)
		}
	})
	for _, f := range drop {
		s.table.release(f.logFile)
	}
	s.Chain, s.Names, s.Text = chain, names, text
	return true
}

// bound returns f bounded by the size and mtime of fs.
func (fs fileStamp) bound(f FileRef) FileRef {
	f.Size, f.mtime = fs.size, time.Unix(fs.mtime.Sec, fs.mtime.Nsec)
	return f
}

// Bytes returns the sum of the bounds of the set's files.
func (s *FileSet) Bytes() int64 {
	var n int64
	s.each(func(f FileRef) { n += f.Size })
	return n
}

// RewrittenAtSize reports whether a file of now is one of was (by
// identity) at the same size but written since: its mtime moved, or, under
// the same name, its ctime did (an append grows a file; a rotation renames
// it, which moves its ctime alone). Its last bytes may be the same.
func RewrittenAtSize(was, now *FileSet) bool {
	old, cur := was.Stamp(), now.Stamp()
	for i := range cur {
		f := &cur[i]
		if f.id == (FileID{}) {
			continue
		}
		for j := range old {
			o := &old[j]
			if o.id == f.id && o.size == f.size && (o.mtime != f.mtime || i == j && o.ctime != f.ctime) {
				return true
			}
		}
	}
	return false
}

// Times are the times of a sandbox's files: a FileSet's, or a Stamp's.
type Times interface {
	ModTime(mask logline.SourceMask) time.Time
	ChangeTime(mask logline.SourceMask) time.Time
}

// ChangeTime returns the newest ctime of the files a stream of mask reads.
func (st *Stamp) ChangeTime(mask logline.SourceMask) time.Time {
	return st.newest(mask, func(f *fileStamp) unix.Timespec { return f.ctime })
}

// newest returns the newest of the times field gives of the files a
// stream of mask reads.
func (st *Stamp) newest(mask logline.SourceMask, field func(*fileStamp) unix.Timespec) time.Time {
	n := ChainLen
	if mask.TextOrigins() {
		n = len(st)
	}
	var newest time.Time
	for i := range st[:n] {
		f := &st[i]
		if ts := field(f); f.id != (FileID{}) {
			if t := time.Unix(ts.Sec, ts.Nsec); t.After(newest) {
				newest = t
			}
		}
	}
	return newest
}

// ChangeTime returns the newest ctime of the files a stream of mask reads.
func (s *FileSet) ChangeTime(mask logline.SourceMask) time.Time {
	return s.newest(mask, func(f FileRef) time.Time { return time.Unix(f.ctime.Sec, f.ctime.Nsec) })
}

// At returns when s was opened: before the first stat of its files.
func (s *FileSet) At() time.Time { return s.at }
