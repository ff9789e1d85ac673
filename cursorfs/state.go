package cursorfs

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// States. A snapshot file's bytes at one state never change, so a node
// pinned to one state (its size, time, owner and mode) can be its own
// inode: the kernel may keep its attributes and its pages for as long as
// it knows the inode, fstat of it is exact from any process, and a page
// it caches can never be from another state. A lookup of the name gives
// the node of the state an open now shows; an open of a state that is no
// longer shown fails with ESTALE, on which the kernel looks the name up
// again and opens the state it then finds (docs/caching.md).

// stateValid is how long the kernel may keep a pinned node's attributes:
// they never change.
const stateValid = time.Hour

// nameValid returns how long the kernel may keep a name's entry pointing
// at a state that every stat and open shows for held more
// (engine.ViewStat.Held): all of it but half of engine.HoldFor, the slack
// for the answer's way to the kernel and an open's way back. A stat the
// kernel answers from the entry, and an open of the state it names, then
// reach the engine while it still shows that state and no newer one: the
// open shows what the stat showed (tar's stat-then-open), and a file's
// change shows at the next stat at most HoldFor late, as without the
// entry (docs/caching.md).
func nameValid(held time.Duration) time.Duration {
	return max(0, held-engine.HoldFor/2)
}

// errStale is the error of an open of a state that an open no longer
// shows.
var errStale = fmt.Errorf("state no longer shown: %w", syscall.ESTALE)

// Pin returns the node of the state a, which n's Stat returned: its Stat
// returns a without reading the sandbox, its inode number is the state's,
// and its Open opens that state or fails with ESTALE. A node whose bytes
// may change at any time (not a.Fixed) is not pinned: Pin returns n.
func (n *Node) Pin(a Attr) *Node {
	if !a.Fixed || n.state != nil {
		return n
	}
	a.Valid = stateValid
	p := *n
	p.state = &a
	return &p
}

// keepState checks that h, just opened from a pinned node, shows the
// node's state, and lets the kernel keep its pages; else it closes h.
func (n *Node) keepState(h Handle) error {
	size, mt := h.Stat()
	var change time.Time
	if c, ok := h.(interface{ ChangeTime() time.Time }); ok {
		change = c.ChangeTime()
	}
	p, err := n.filePerm()
	same := false
	if err == nil {
		same, err = n.keyStill()
	}
	if err != nil || !same || size != n.state.Size || !mt.Equal(n.state.ModTime) || !change.Equal(n.state.Change) || p != n.state.Perm {
		_ = h.Close()
		if err != nil {
			return err
		}
		return errStale
	}
	if c, ok := h.(cacheable); ok {
		c.keepCache()
	}
	return nil
}

// cacheable is a handle whose pages the kernel may keep once it is known
// to show the state of its inode.
type cacheable interface{ keepCache() }

// appendKey appends what tells the state apart: size, times, owner and
// mode, and the key of a keyed state.
func (a *Attr) appendKey(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(a.Size))
	b = binary.LittleEndian.AppendUint64(b, uint64(a.ModTime.UnixNano()))
	b = binary.LittleEndian.AppendUint64(b, uint64(a.Change.UnixNano()))
	b = binary.LittleEndian.AppendUint32(b, a.Perm.UID)
	b = binary.LittleEndian.AppendUint32(b, a.Perm.GID)
	b = binary.LittleEndian.AppendUint32(b, a.Perm.Mode)
	return append(b, a.Key...)
}
