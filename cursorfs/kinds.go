package cursorfs

import (
	"fmt"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// kind is the behaviour of one Kind of file: what stat by name shows,
// what an open returns, whether it may be opened for writing, and whether
// its bytes at one state never change (fixed: a snapshot's). Adding a
// kind of file is adding a kind here and its names to Files.
type kind interface {
	stat(n *Node) (int64, time.Time, error)
	open(n *Node) (Handle, error)
	writable() bool
	fixed() bool
}

var kinds = [...]kind{
	KindSnapshot:  snapshotKind{},
	KindFollow:    followKind{},
	KindLive:      liveKind{},
	KindSeek:      seekKind{},
	KindCursor:    cursorKind{},
	KindBootError: bootErrorKind{},
	KindInfo:      infoKind{},
}

// sb returns the engine's sandbox of n.
func (n *Node) sb() (*engine.Sandbox, error) { return n.fs.home.Sandbox(n.sandbox) }

// sandboxSide is the engine's sandbox as a stat or an open sees it: the
// *engine.Sandbox itself, or its engine.OpenSide.
type sandboxSide interface {
	StatHeld(v engine.View) (engine.ViewStat, time.Duration, error)
	ModTime() (time.Time, error)
	Session(id uint64) (engine.SessionInfo, error)
	SessionSummary(id uint64) (engine.SessionInfo, error)
}

var (
	_ sandboxSide = (*engine.Sandbox)(nil)
	_ sandboxSide = engine.OpenSide{}
)

// side returns n's sandbox as n's stats see it: as an open does for a
// node StatToOpen made (toOpen), else as a stat does.
func (n *Node) side() (sandboxSide, error) {
	sb, err := n.sb()
	if err != nil {
		return nil, err
	}
	return sideOf(sb, n.toOpen), nil
}

// sideOf returns sb as an open (toOpen) or a stat sees it.
func sideOf(sb *engine.Sandbox, toOpen bool) sandboxSide {
	if toOpen {
		return sb.ToOpen()
	}
	return sb
}

// viewStat is the stat of a view: the size an open now would show.
func viewStat(n *Node) (int64, time.Time, error) {
	st, _, err := viewStatHeld(n)
	return st.Size, st.ModTime, err
}

// viewStatHeld is viewStat with the view's change time, and how long its
// state is held (engine.Sandbox.StatHeld). A session gone since it was
// shown (recent.go) is empty, at its last time, and held for no time.
func viewStatHeld(n *Node) (engine.ViewStat, time.Duration, error) {
	sb, err := n.side()
	if err != nil {
		return engine.ViewStat{}, 0, err
	}
	st, held, err := sb.StatHeld(n.view())
	if last, gone := n.goneSession(err); gone {
		return engine.ViewStat{ModTime: last}, 0, nil
	}
	return st, held, err
}

// openView opens n's view of its sandbox with open.
func openView[H Handle](n *Node, open func(*engine.Sandbox, engine.View) (H, error)) (Handle, error) {
	sb, err := n.sb()
	if err != nil {
		return nil, err
	}
	h, err := open(sb, n.view())
	if err != nil {
		return nil, err
	}
	return h, nil
}

type snapshotKind struct{ readOnlyKind }

func (snapshotKind) fixed() bool { return true }

func (snapshotKind) stat(n *Node) (int64, time.Time, error) { return viewStat(n) }
func (snapshotKind) open(n *Node) (Handle, error) {
	h, err := openView(n, openSnapshot)
	if last, gone := n.goneSession(err); gone {
		return newBytes(nil, last), nil
	}
	return h, err
}

type followKind struct{ readOnlyKind }

func (followKind) stat(n *Node) (int64, time.Time, error) { return viewStat(n) }
func (followKind) open(n *Node) (Handle, error)           { return openView(n, n.fs.openFollow) }

type liveKind struct{ readOnlyKind }

func (liveKind) stat(n *Node) (int64, time.Time, error) { return viewStat(n) }
func (liveKind) open(n *Node) (Handle, error)           { return openView(n, n.fs.openLive) }

// seekKind is a stream: it shows no size.
type seekKind struct{}

func (seekKind) stat(n *Node) (int64, time.Time, error) {
	sb, err := n.sb()
	if err != nil {
		return 0, time.Time{}, err
	}
	mt, err := sb.ModTime()
	return 0, mt, err
}

func (seekKind) open(n *Node) (Handle, error) {
	sb, err := n.sb()
	if err != nil {
		return nil, err
	}
	return openSeek(sb), nil
}

func (seekKind) writable() bool { return true }
func (seekKind) fixed() bool    { return false }

type cursorKind struct{ readOnlyKind }

func (cursorKind) stat(n *Node) (int64, time.Time, error) {
	sb, err := n.side()
	if err != nil {
		return 0, time.Time{}, err
	}
	mt, err := sb.ModTime()
	return cursorSize, mt, err
}

func (cursorKind) open(n *Node) (Handle, error) {
	sb, err := n.sb()
	if err != nil {
		return nil, err
	}
	b, err := openCursor(sb)
	if err != nil {
		return nil, err
	}
	return b, nil
}

type bootErrorKind struct{ readOnlyKind }

// stat counts a missing file, a link or a file that is not regular as
// absent.
func (bootErrorKind) stat(n *Node) (int64, time.Time, error) {
	size, mt, err := statBootError(n.fs.home, n.sandbox)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("%v: %w", err, syscall.ENOENT)
	}
	return size, mt, nil
}

func (bootErrorKind) open(n *Node) (Handle, error) {
	b, err := openBootError(n.fs.home, n.sandbox)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// readOnlyKind is a kind that is never opened for writing, whose bytes
// may change at any time.
type readOnlyKind struct{}

func (readOnlyKind) writable() bool { return false }
func (readOnlyKind) fixed() bool    { return false }
