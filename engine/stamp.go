package engine

import (
	"time"

	"golang.org/x/sys/unix"
)

// RacyMargin is how much older than the moment its stamp was taken a
// file's change time must be for the stamp to vouch for its bytes later.
// A change time is kept at the filesystem's granularity (a clock tick on
// Linux, seconds on some filesystems): a write in the same tick as the
// stamp could leave it as it was, but a write after the stamp gets a
// change time later than the stamp's moment less one tick.
const RacyMargin = 2 * time.Second

// fileStamp is what a stat tells of one log name: its file's identity,
// size and times. The zero fileStamp is a name with no regular file.
type fileStamp struct {
	id           fileID
	size         int64
	mtime, ctime unix.Timespec
}

// stampNames are the log names of a stamp, in its order.
var stampNames = [ChainLen + 2]string{ExecLogName, ExecLogName + ".1", ExecLogName + ".2", ExecLogName + ".3",
	ExecLogName + ".4", RuntimeLogName, KernelLogName}

// stamp is a sandbox's log names as stat shows them. Two equal stamps
// whose files changed last RacyMargin before the first was taken name the
// same bytes: any write, truncation, rename or chmod since sets a file's
// change time to a later one.
type stamp [len(stampNames)]fileStamp

// probeStamp stats the sandbox's log names (opening none). A name whose
// stat fails other than by its absence makes ok false.
func probeStamp(t *fileTable) (st stamp, ok bool) {
	dir := t.path("") + "/"
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
		st[i] = fileStamp{id: fileID{major: unix.Major(sx.Dev), minor: unix.Minor(sx.Dev), ino: sx.Ino},
			size: sx.Size, mtime: sx.Mtim, ctime: sx.Ctim}
	}
	return st, true
}

// stamp returns the stamp of the files of s as their stats showed them.
func (s *fileSet) stamp() stamp {
	var st stamp
	for i, f := range s.chain {
		st[s.names[i]] = f.stamp()
	}
	for o, name := range [NumOrigins]int{OriginRuntime: ChainLen, OriginKernel: ChainLen + 1} {
		if len(s.text[o]) == 1 && name > 0 {
			st[name] = s.text[o][0].stamp()
		}
	}
	return st
}

func (f fileRef) stamp() fileStamp {
	return fileStamp{id: f.id, size: f.size, mtime: unix.Timespec{Sec: f.mtime.Unix(), Nsec: int64(f.mtime.Nanosecond())}, ctime: f.ctime}
}

// settled reports whether every file of st changed last margin (see
// RacyMargin) or more before at, so that st vouches for their bytes from
// then on.
func (st *stamp) settled(at time.Time, margin time.Duration) bool {
	limit := at.Add(-margin)
	for i := range st {
		f := &st[i]
		if f.id != (fileID{}) && (!before(f.ctime, limit) || !before(f.mtime, limit)) {
			return false
		}
	}
	return true
}

// before reports whether ts is before t.
func before(ts unix.Timespec, t time.Time) bool {
	return ts.Sec < t.Unix() || ts.Sec == t.Unix() && ts.Nsec < int64(t.Nanosecond())
}

// modTime returns the newest mtime of the files a stream of mask reads,
// as fileSet.modTime does.
func (st *stamp) modTime(mask SourceMask) time.Time {
	n := ChainLen
	if mask.textOrigins() {
		n = len(st)
	}
	var newest time.Time
	for _, f := range st[:n] {
		if t := time.Unix(f.mtime.Sec, f.mtime.Nsec); f.id != (fileID{}) && t.After(newest) {
			newest = t
		}
	}
	return newest
}

// boundTo bounds s to st, the stamp a stat showed just before s was
// opened, so that an open shows what that stat showed: each file st names
// must be in s (by identity) at least as large, and is bounded by its size
// and mtime in st; a file of s that st does not name (made since) is left
// out. When that cannot be (a file of st left or shrank), s is left as it
// is and boundTo returns false. Change times stay as s saw them, so that
// the bounded set's stamp is not taken for st.
func (s *fileSet) boundTo(st *stamp) bool {
	find := func(f fileRef) (int, bool) {
		for i := range st {
			if st[i].id != (fileID{}) && st[i].id == f.id {
				return i, true
			}
		}
		return 0, false
	}
	var chain []fileRef
	var names []int
	var text [NumOrigins][]fileRef
	found := 0
	for _, f := range s.chain {
		if i, ok := find(f); ok && i < ChainLen && f.size >= st[i].size {
			chain, names = append(chain, st[i].bound(f)), append(names, i)
			found++
		}
	}
	for o, name := range [NumOrigins]int{OriginRuntime: ChainLen, OriginKernel: ChainLen + 1} {
		if name > 0 && len(s.text[o]) == 1 && s.text[o][0].id == st[name].id && s.text[o][0].size >= st[name].size {
			text[o] = []fileRef{st[name].bound(s.text[o][0])}
			found++
		}
	}
	want := 0
	for i := range st {
		if st[i].id != (fileID{}) {
			want++
		}
	}
	if found != want {
		return false
	}
	var drop []fileRef
	s.each(func(f fileRef) {
		if _, ok := find(f); !ok {
			drop = append(drop, f)
		}
	})
	for _, f := range drop {
		s.table.release(f.logFile)
	}
	s.chain, s.names, s.text = chain, names, text
	return true
}

// bound returns f bounded by the size and mtime of fs.
func (fs fileStamp) bound(f fileRef) fileRef {
	f.size, f.mtime = fs.size, time.Unix(fs.mtime.Sec, fs.mtime.Nsec)
	return f
}

// bytes returns the sum of the bounds of the set's files.
func (s *fileSet) bytes() int64 {
	var n int64
	s.each(func(f fileRef) { n += f.size })
	return n
}

// rewrittenAtSize reports whether a file of now is one of was (by
// identity) at the same size but written since: its mtime moved, or, under
// the same name, its ctime did (an append grows a file; a rotation renames
// it, which moves its ctime alone). Its last bytes may be the same.
func rewrittenAtSize(was, now *fileSet) bool {
	old, cur := was.stamp(), now.stamp()
	for i := range cur {
		f := &cur[i]
		if f.id == (fileID{}) {
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

// fileTimes are the times of a sandbox's files: a fileSet's, or a stamp's.
type fileTimes interface {
	modTime(mask SourceMask) time.Time
	changeTime(mask SourceMask) time.Time
}

// changeTime returns the newest ctime of the files a stream of mask reads.
func (st *stamp) changeTime(mask SourceMask) time.Time {
	n := ChainLen
	if mask.textOrigins() {
		n = len(st)
	}
	var newest time.Time
	for _, f := range st[:n] {
		if t := time.Unix(f.ctime.Sec, f.ctime.Nsec); f.id != (fileID{}) && t.After(newest) {
			newest = t
		}
	}
	return newest
}

// changeTime returns the newest ctime of the files a stream of mask reads.
func (s *fileSet) changeTime(mask SourceMask) time.Time {
	st := s.stamp()
	return st.changeTime(mask)
}
