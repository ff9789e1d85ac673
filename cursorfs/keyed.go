package cursorfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// Keyed states. The cursor file and a session's info are computed whole at
// open from the sandbox's log files, so their bytes are fixed by the state
// of those files, which the merged view's state (its size, newest mtime and
// newest ctime, over every log file) tells apart as it does a snapshot's.
// Their stat adds that state as the key of theirs: a node pinned to it is
// its own inode, whose attributes and pages the kernel keeps, and its open
// checks that the key is still the sandbox's (else ESTALE, as a snapshot's).
// A stat computes no content: the cursor's size is fixed, an info's comes
// from the session's summary.

// keyedKind is a kind whose state is its size, times and key. key also
// returns how long the sandbox holds the state it is of
// (engine.Sandbox.StatHeld).
type keyedKind interface {
	kind
	key(n *Node) ([]byte, time.Duration, error)
}

var (
	_ keyedKind = cursorKind{}
	_ keyedKind = infoKind{}
)

func (cursorKind) key(n *Node) ([]byte, time.Duration, error) { return mergedKey(n) }
func (infoKind) key(n *Node) ([]byte, time.Duration, error)   { return mergedKey(n) }

// stateKey returns the key of n's state, and how long the sandbox holds
// it: nil for a kind whose size and times tell its states apart.
func (n *Node) stateKey(k kind) ([]byte, time.Duration, error) {
	kk, ok := k.(keyedKind)
	if !ok {
		return nil, 0, nil
	}
	return kk.key(n)
}

// mergedKey returns the state of n's sandbox's merged view — its size,
// newest mtime and newest ctime — and how long the sandbox holds it, as
// n's stats see the sandbox (Node.side).
func mergedKey(n *Node) ([]byte, time.Duration, error) {
	sb, err := n.side()
	if err != nil {
		return nil, 0, err
	}
	st, held, err := sb.StatHeld(engine.ViewMerged)
	if err != nil {
		return nil, 0, fmt.Errorf("state of %s: %w", n.sandbox, err)
	}
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 24), uint64(st.Size))
	b = binary.LittleEndian.AppendUint64(b, uint64(st.ModTime.UnixNano()))
	return binary.LittleEndian.AppendUint64(b, uint64(st.ChangeTime.UnixNano())), held, nil
}

// keyStill reports whether the key of pinned node n is its sandbox's now,
// as an open sees the sandbox.
func (n *Node) keyStill() (bool, error) {
	if n.state.Key == nil {
		return true, nil
	}
	o := *n
	o.toOpen = true
	key, _, err := o.stateKey(kinds[n.file().Kind])
	if err != nil {
		return false, err
	}
	return bytes.Equal(key, n.state.Key), nil
}

// keepCache lets the kernel keep the pages of a cursor or info opened from
// the node of its state.
func (b *bytesHandle) keepCache() { b.keep = true }

// Flags returns KeepCache once keepCache was called, else DirectIO.
func (b *bytesHandle) Flags() OpenFlags {
	if b.keep {
		return KeepCache
	}
	return DirectIO
}
