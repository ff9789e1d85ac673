package engine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"golang.org/x/sys/unix"
)

// HoldFor is how long a shown state of a sandbox is held before a newer one
// is shown, so that a stat and an open in quick succession agree (tar
// compares them).
const HoldFor = 100 * time.Millisecond

// ErrRemoved is returned to followers of a sandbox whose logs directory was
// removed.
var ErrRemoved = errors.New("sandbox removed")

// Sandbox is one sandbox's logs. Safe for concurrent use.
type Sandbox struct {
	home  *Home
	name  string
	table *chain.FileTable

	removed atomic.Bool
	watched bool         // its directories are watched (see Home.watch); guarded by home.mu
	dir     DirID        // of the logs directory this Sandbox reads
	holds   atomic.Int32 // open handles (see hold)
	lastUse atomic.Int64 // Unix ns of the last use, on the home's clock

	mu      sync.Mutex
	shown   *chain.FileSet // the state stat and open show, held for HoldFor
	shownAt time.Time
	statAt  time.Time // when a stat (any call but an open) last answered
	indexes map[SourceMask]*index.Index
	// looks counts the file sets current opened; upTo holds, per index,
	// the count when it was last brought up to the shown state.
	looks   uint64
	upTo    map[SourceMask]uint64
	changed chan struct{} // closed and replaced at every change
	sig     string        // the files' identities and sizes at the last poll

	// probed is the stamp a stat answered from the parked summary last
	// showed, at probedAt; nil once the sandbox holds state again.
	probed   *chain.Stamp
	probedAt time.Time
}

// newSandbox returns the Sandbox of name, whose logs directory is dir.
func newSandbox(h *Home, name string, dir DirID) *Sandbox {
	s := &Sandbox{
		home:    h,
		name:    name,
		table:   chain.NewFileTable(h.root, name, h.reclaim),
		indexes: make(map[SourceMask]*index.Index),
		upTo:    make(map[SourceMask]uint64),
		changed: make(chan struct{}),
		dir:     dir,
	}
	s.table.SetRacyMargin(h.racyMargin)
	return s
}

// DirID identifies a logs directory, telling it from another made at the
// same path later: its inode number and, where the filesystem keeps it,
// its birth time (Unix nanoseconds; 0 where it is not kept), since an
// inode number alone may be reused at once.
type DirID struct {
	Ino   uint64
	Birth int64
}

// IdentifyDir returns the identity of the directory at path now; false
// when there is none.
func IdentifyDir(path string) (DirID, bool) {
	var stx unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_INO|unix.STATX_BTIME|unix.STATX_TYPE, &stx)
	if err != nil || stx.Mode&unix.S_IFMT != unix.S_IFDIR {
		return DirID{}, false
	}
	id := DirID{Ino: stx.Ino}
	if stx.Mask&unix.STATX_BTIME != 0 {
		id.Birth = chain.StatxTime(stx.Btime)
	}
	return id, true
}

// DirID returns the identity of the logs directory s reads (the zero
// DirID if it was gone when s was made).
func (s *Sandbox) DirID() DirID { return s.dir }

// gone reports whether the sandbox's logs directory was removed, or
// replaced by a new one: either way this Sandbox's followers are done.
func (s *Sandbox) gone() bool {
	id, ok := s.home.identify(s.name)
	return !ok || id != s.dir
}

// Name returns the sandbox's name.
func (s *Sandbox) Name() string { return s.name }

// LogsDir returns the sandbox's logs directory.
func (s *Sandbox) LogsDir() string { return s.table.Path("") }

// Changed returns a channel that is closed at the next change of the
// sandbox's files, or when it is removed or the home closes.
func (s *Sandbox) Changed() <-chan struct{} {
	s.home.watch(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// notify wakes everything waiting on Changed.
func (s *Sandbox) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// markRemoved ends the sandbox's followers.
func (s *Sandbox) markRemoved() {
	if !s.removed.Swap(true) {
		s.home.forget(s)
		s.notify()
	}
}

func (s *Sandbox) isRemoved() bool { return s.removed.Load() }

// access is what a call of the front does with the state it is shown:
// stat it, open a snapshot of it, or open a follower from it.
type access int

const (
	accessStat access = iota
	accessOpen
	accessFollow
)

// current returns the state to show: the held one when held is set (what
// holding said), else the files as they are now. Called with s.mu held.
func (s *Sandbox) current(a access, held bool) (*chain.FileSet, error) {
	s.touch()
	if held {
		return s.shown, nil
	}
	files, err := chain.OpenFileSet(s.table)
	if err != nil {
		return nil, fmt.Errorf("sandbox %s: %w", s.name, err)
	}
	s.looks++
	if s.shown == nil && s.probed != nil && a == accessOpen && s.home.now().Sub(s.statAt) < HoldFor {
		files.BoundTo(s.probed) // the open shows what the stat just before it showed
	}
	s.probed = nil
	// A stamp holds, under the name each file was opened as, its device and
	// inode, size, mtime and ctime: equal stamps are the same files at the
	// same sizes and times, ctimes included (a rewrite at the same size).
	if s.shown != nil && s.shown.Stamp() == files.Stamp() {
		files.Release()
	} else {
		if s.shown == nil {
			s.gotState()
		}
		s.shown.Release()
		s.shown = files
	}
	s.shownAt = s.home.now()
	return s.shown, nil
}

// holding reports whether the state shown last is still held: for
// HoldFor after a call first showed it, and, for an open, also for HoldFor
// after a stat showed it. So the open that follows a stat (tar: lstat,
// open, read, fstat) shows the stat's state even when the stat came at the
// end of the state's own HoldFor; an open then sees what was written before
// it at most 2 × HoldFor late. A follower's open is not held to a state
// that exec.log has rotated past since: a follower goes on from the end of
// the state it opens, which it must find in the exec.log chain, and
// rotations fast enough to drop that end within the hold would end the
// follower as soon as it opened (missed rotation). Called with s.mu held.
func (s *Sandbox) holding(a access) bool {
	if s.shown == nil {
		return false
	}
	now := s.home.now()
	held := now.Sub(s.shownAt) < HoldFor || a != accessStat && now.Sub(s.statAt) < HoldFor
	return held && (a != accessFollow || s.shown.ExecStillNamed())
}

// heldFor returns how much longer the state shown now is shown to every
// stat and open (a follower's open aside, see holding): until HoldFor
// after it was first shown, or after the parked summary's stamp was last
// probed. Called with s.mu held.
func (s *Sandbox) heldFor() time.Duration {
	at := s.shownAt
	if s.shown == nil {
		at = s.probedAt
	}
	return max(0, at.Add(HoldFor).Sub(s.home.now()))
}

// indexFor returns the index of v's stream brought up to files, the
// shown state; a pass it runs renders v into the render cache when warm
// is set. An index already brought up to the shown state since current
// last looked at the files is returned as it is: while a state is held,
// nothing is looked at again (no stat, no read of the files). Called with
// s.mu held.
func (s *Sandbox) indexFor(v View, files *chain.FileSet, warm bool) (*index.Index, error) {
	stream := v.Stream()
	x := s.indexes[stream]
	if x != nil && x.Files() != nil && s.upTo[stream] == s.looks {
		return x, nil
	}
	if x == nil {
		s.unpark(files)
		x = s.indexes[stream]
	}
	if x == nil {
		x = index.New(stream, s.home.cacheStore(), s.home.indexStore())
		s.indexes[stream] = x
	}
	slot := -1
	if warm && !v.ByID { // the pass renders sandbox views only
		slot = index.TrackedIndex(v)
	}
	// A small system pass replays merged's record rather than parse the files.
	err := x.UpdateAlong(files.Clone(), slot, s.indexes[MaskAll])
	if err != nil {
		delete(s.upTo, stream)
		return nil, fmt.Errorf("sandbox %s: %w", s.name, err)
	}
	s.upTo[stream] = s.looks
	return x, nil
}

// withIndex calls fn, with s.mu held, with the files to show now and the
// index of v's stream brought up to them (see indexFor for warm), for a
// stat (any call but an open).
func (s *Sandbox) withIndex(v View, warm bool, fn func(x *index.Index, files *chain.FileSet)) error {
	return s.withIndexFor(v, warm, accessStat, fn)
}

// withIndexToOpen is withIndex for an open (see holding).
func (s *Sandbox) withIndexToOpen(v View, warm bool, fn func(x *index.Index, files *chain.FileSet)) error {
	return s.withIndexFor(v, warm, accessOpen, fn)
}

func (s *Sandbox) withIndexFor(v View, warm bool, a access, fn func(x *index.Index, files *chain.FileSet)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := s.holding(a)
	files, err := s.current(a, held)
	if err != nil {
		return err
	}
	x, err := s.indexFor(v, files, warm)
	if err != nil {
		return err
	}
	if hook := s.home.afterIndex; hook != nil {
		hook()
	}
	if !held {
		// The hold starts when the caller gets its answer, not before the
		// pass that made it: a pass that took longer than HoldFor (a cold
		// or busy sandbox, a loaded machine) used up the hold, and tar's
		// open right after its stat saw a newer state ("file changed as we
		// read it").
		s.shownAt = s.home.now()
	}
	if a == accessStat {
		s.statAt = s.home.now()
	}
	fn(x, files)
	return nil
}

// ViewStat is what stat shows of a view.
type ViewStat struct {
	Size    int64
	ModTime time.Time
	// ChangeTime is the newest ctime of the files the view reads: it moves
	// at every write, rename or chmod, even one that puts the mtime back,
	// so a cache of a state keyed by it never serves another's bytes.
	ChangeTime time.Time
	Skipped    chain.Counts // lines of the view's origins skipped as bad input
}

// Stat returns the size and time of view v as an open now would show it.
func (s *Sandbox) Stat(v View) (ViewStat, error) {
	st, _, err := s.StatHeld(v)
	return st, err
}

// StatHeld is Stat, and how much longer every stat and open of the
// sandbox shows this state and no newer one (a follower's open aside):
// the rest of its HoldFor. A cache of the answer may be trusted that long.
func (s *Sandbox) StatHeld(v View) (ViewStat, time.Duration, error) {
	return s.statHeld(v, accessStat)
}

func (s *Sandbox) statHeld(v View, a access) (ViewStat, time.Duration, error) {
	var st ViewStat
	var held time.Duration
	if err := index.CheckView(v); err != nil {
		return st, 0, err
	}
	var serr error
	// A pass a stat runs renders the view only when that is cheap (a raw
	// view is a copy of bodies): a stat of merged must not cost a render.
	err := s.withSummary(v, v.Format == FormatRaw, a, func(x *index.Index, files chain.Times) {
		size := x.Total[index.TrackedIndex(v)]
		if v.ByID {
			size, serr = s.sessionSize(x, v)
		}
		st = ViewStat{Size: size, ModTime: files.ModTime(v.Mask), ChangeTime: files.ChangeTime(v.Mask), Skipped: x.Counts}
		held = s.heldFor()
	})
	if err == nil {
		err = serr
	}
	return st, held, err
}

// ModTime returns the newest mtime of the sandbox's log files.
func (s *Sandbox) ModTime() (time.Time, error) { return s.modTime(accessStat) }

func (s *Sandbox) modTime(a access) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.parkedNow(); p != nil {
		return p.st.ModTime(MaskAll), nil
	}
	files, err := s.current(a, s.holding(a))
	if err != nil {
		return time.Time{}, err
	}
	return files.ModTime(MaskAll), nil
}

// EndCursor returns the cursor at the current end of the merged view.
func (s *Sandbox) EndCursor() (Cursor, error) {
	st, err := s.EndState()
	return st.Cursor, err
}

// EndState returns the merge state at the current end of every origin.
func (s *Sandbox) EndState() (State, error) { return s.endState(accessStat) }

func (s *Sandbox) endState(a access) (State, error) {
	var st State
	err := s.withSummary(ViewMerged, false, a, func(x *index.Index, _ chain.Times) { st = x.End })
	return st, err
}

// ToOpen returns the sandbox as an open sees it: the calls of an OpenSide
// show the state held for an open — the one the last stat showed, for
// HoldFor after that stat (see holding) — where the Sandbox's own show the
// state held for a stat. A file computed whole at its open (the cursor,
// an info) is computed through it, so that the open shows what the stat
// just before it showed even when that stat came at the end of a hold.
func (s *Sandbox) ToOpen() OpenSide { return OpenSide{s} }

// OpenSide is a Sandbox as an open sees it (Sandbox.ToOpen).
type OpenSide struct{ s *Sandbox }

// StatHeld is Sandbox.StatHeld as an open sees it.
func (o OpenSide) StatHeld(v View) (ViewStat, time.Duration, error) {
	return o.s.statHeld(v, accessOpen)
}

// EndState is Sandbox.EndState as an open sees it.
func (o OpenSide) EndState() (State, error) { return o.s.endState(accessOpen) }

// ModTime is Sandbox.ModTime as an open sees it.
func (o OpenSide) ModTime() (time.Time, error) { return o.s.modTime(accessOpen) }

// Session is Sandbox.Session as an open sees it.
func (o OpenSide) Session(id uint64) (SessionInfo, error) { return o.s.session(id, true, accessOpen) }

// SessionSummary is Sandbox.SessionSummary as an open sees it.
func (o OpenSide) SessionSummary(id uint64) (SessionInfo, error) {
	return o.s.session(id, false, accessOpen)
}

// Snapshot is a view fixed at its open: every read at any offset gives the
// same bytes, whatever the sandbox writes or rotates meanwhile.
type Snapshot struct {
	seg        *index.Segment
	modTime    time.Time
	changeTime time.Time
	unhold     func()
}

// OpenSnapshot fixes view v as it is now.
func (s *Sandbox) OpenSnapshot(v View) (*Snapshot, error) {
	if err := index.CheckView(v); err != nil {
		return nil, err
	}
	var snap *Snapshot
	var serr error
	err := s.withIndexToOpen(v, true, func(x *index.Index, files *chain.FileSet) {
		if v.ByID {
			if _, serr = s.sessionSize(x, v); serr != nil {
				return
			}
		}
		snap = &Snapshot{seg: x.Segment(v), modTime: files.ModTime(v.Mask), changeTime: files.ChangeTime(v.Mask), unhold: s.hold()}
	})
	if err == nil {
		err = serr
	}
	return snap, err
}

// Size returns the snapshot's length.
func (s *Snapshot) Size() int64 { return s.seg.Size }

// ModTime returns the snapshot's modification time.
func (s *Snapshot) ModTime() time.Time { return s.modTime }

// ChangeTime returns the snapshot's change time (see ViewStat).
func (s *Snapshot) ChangeTime() time.Time { return s.changeTime }

// ReadAt implements io.ReaderAt.
func (s *Snapshot) ReadAt(p []byte, off int64) (int, error) { return s.seg.ReadAt(p, off) }

// Close releases the snapshot's files.
func (s *Snapshot) Close() error {
	s.seg.Release()
	s.unhold()
	return nil
}

// lostPosition interprets an error of a pass that resumed from a position:
// a position in no file of the chain is a missed rotation only when the
// chain is full (a rotation dropped the file); while a sandbox is being
// removed, files vanish one by one, so a short chain is a transient state
// (nil: nothing new) and a vanished logs directory is ErrRemoved.
func (s *Sandbox) lostPosition(err error, chainLen int) error {
	if err == nil || !errors.Is(err, ErrMissedRotation) {
		return err
	}
	if s.gone() {
		s.markRemoved()
		return ErrRemoved
	}
	if chainLen < ChainLen {
		return nil
	}
	return err
}
