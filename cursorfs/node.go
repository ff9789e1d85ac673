package cursorfs

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// Node is one file of a sandbox directory or of one of its session
// directories, resolved by name. It owns the file's behaviour: what stat
// by name shows and what an open returns. A Node holds no engine object:
// the sandbox is found again at every Stat and Open, so a sandbox removed
// and created again is shown afresh.
type Node struct {
	fs      *FS
	sandbox string
	index   int32 // in Files, or in sessionFiles for a session's file
	// toOpen marks a copy made by StatToOpen: its stats see the sandbox
	// as an open does (Node.side).
	toOpen  bool
	session *uint64
	state   *Attr // the state a pinned node is (state.go), else nil
}

// Attr is what stat shows of a file: its size, modification time (also its
// change time) and owner and mode.
type Attr struct {
	Size    int64
	ModTime time.Time
	// Change is the newest ctime of the files of a snapshot's view: it
	// tells apart two states of one size and mtime (a rewrite in place
	// that put the mtime back). Zero for other files.
	Change time.Time
	Perm   Perm
	// Fixed is set for a snapshot file, the cursor and an info, whose
	// bytes at one state never change: Pin makes the node of that state.
	Fixed bool
	// Key is what else tells the cursor's and an info's states apart
	// (keyed.go); nil for other files.
	Key []byte
	// Valid is how long the kernel may keep these attributes: a pinned
	// node's never change.
	Valid time.Duration
	// NameValid is how long the kernel may keep the name's entry, which
	// points at this state (state.go); 0 for a file whose state is not
	// held.
	NameValid time.Duration
}

// Handle is an open file. Every kind of file implements it; the FUSE
// adapter maps its calls onto these methods and nothing else.
type Handle interface {
	// Read reads at off. nonblock is the request's O_NONBLOCK; ctx ends
	// when the caller is interrupted (the read then fails with EINTR).
	// End of file is 0 bytes and a nil error.
	Read(ctx context.Context, p []byte, off int64, nonblock bool) (int, error)
	// Write writes p; only seek accepts it, as a new position.
	Write(p []byte) (int, error)
	// Stat returns the handle's own size and time (fstat).
	Stat() (size int64, modTime time.Time)
	// Flags returns how the kernel must treat the open file.
	Flags() OpenFlags
	// Close releases what the handle holds and ends its blocked reads.
	Close() error
}

// The handles, and the kinds and directory kinds of the tables.
var (
	_ Handle = (*snapshotHandle)(nil)
	_ Handle = (*bytesHandle)(nil)
	_ Handle = (*followHandle)(nil)
	_ Handle = (*liveHandle)(nil)
	_ Handle = (*seekHandle)(nil)

	_ kind = snapshotKind{}
	_ kind = followKind{}
	_ kind = liveKind{}
	_ kind = seekKind{}
	_ kind = cursorKind{}
	_ kind = bootErrorKind{}
	_ kind = infoKind{}

	_ dirBehaviour = rootDir{}
	_ dirBehaviour = sandboxDir{}
	_ dirBehaviour = sessionsDir{}
	_ dirBehaviour = sessionDir{}
)

// OpenFlags tell the kernel how to treat an open file.
type OpenFlags uint8

// The open flags. DirectIO sends every read to the server (no page
// cache): two handles of one file may hold different bytes, and a follow
// read must reach the server to block. Stream and NonSeekable make a file
// whose position the server keeps (seek): every read arrives at offset 0
// and a read blocked on it never holds the position a write needs.
const (
	DirectIO OpenFlags = 1 << iota
	Stream
	NonSeekable
	// KeepCache lets the kernel keep the file's pages across opens: the
	// inode is one state of a snapshot (a pinned node), whose bytes never
	// change.
	KeepCache
)

// file returns the node's entry of Files or sessionFiles.
func (n *Node) file() File {
	if n.session != nil {
		return sessionFiles[n.index]
	}
	return Files[n.index]
}

// view returns the view of a snapshot, follow or live file: a session's
// file shows that session's part of its view.
func (n *Node) view() engine.View {
	if n.session != nil {
		return sessionFiles[n.index].View.Session(*n.session)
	}
	return Files[n.index].View
}

// Name returns the file's name.
func (n *Node) Name() string { return n.file().Name }

// path returns the file's path in the mount, below the sandbox's directory.
func (n *Node) path() string {
	if n.session != nil {
		return fmt.Sprintf("%s/%d/%s", sessionsName, *n.session, n.Name())
	}
	return n.Name()
}

// Ino returns the file's inode number: a pinned node's is its state's.
func (n *Node) Ino() uint64 {
	tag, id, name := byte(fileTag), uint64(0), n.Name()
	if n.session != nil {
		tag, id = tag+1, *n.session
	}
	if n.state != nil {
		tag, name = tag+2, string(n.state.appendKey([]byte(name)))
	}
	return inoOf(tag, n.sandbox, id, name)
}

// Sandbox returns the name of the file's sandbox.
func (n *Node) Sandbox() string { return n.sandbox }

// Stat returns what an open now would show: its size and time, and the
// file's owner and mode. A pinned node's are its state's.
func (n *Node) Stat() (Attr, error) {
	if n.state != nil {
		return *n.state, nil
	}
	k := kinds[n.file().Kind]
	var a Attr
	var err error
	if k.fixed() {
		var st engine.ViewStat
		var held time.Duration
		st, held, err = viewStatHeld(n)
		a = Attr{Size: st.Size, ModTime: st.ModTime, Change: st.ChangeTime, NameValid: nameValid(held)}
	} else {
		a.Size, a.ModTime, err = k.stat(n)
	}
	if err != nil {
		return Attr{}, err
	}
	if a.Perm, err = n.filePerm(); err != nil {
		return Attr{}, err
	}
	var held time.Duration
	if a.Key, held, err = n.stateKey(k); err != nil {
		return Attr{}, err
	}
	if a.Key != nil {
		a.NameValid = nameValid(held)
	}
	a.Fixed = k.fixed() || a.Key != nil
	return a, nil
}

// StatToOpen is Stat as an open now sees the sandbox: the state an open
// would show (the one the last stat showed, for engine.HoldFor after that
// stat: engine.Sandbox.ToOpen) where Stat gives the one a stat would. The
// lookup of an open that follows its thread's stat of the same name
// answers with it (tar: lstat, open), so that the open shows what the
// stat showed even when that stat came at the end of a hold.
func (n *Node) StatToOpen() (Attr, error) {
	if n.state != nil {
		return *n.state, nil
	}
	o := *n
	o.toOpen = true
	return o.Stat()
}

// Perm returns the file's owner and mode; a pinned node's are its
// state's.
func (n *Node) Perm() (Perm, error) {
	if n.state != nil {
		return n.state.Perm, nil
	}
	return n.filePerm()
}

// filePerm returns the file's owner and mode now. A session's files are
// all made of the exec chain and read-only: they share the mode of stdout.
func (n *Node) filePerm() (Perm, error) {
	if n.session != nil {
		return n.fs.filePerm(n.sandbox, stdoutIndex)
	}
	return n.fs.filePerm(n.sandbox, int(n.index))
}

// Open opens the file with the open(2) flags given. Creating, truncating
// and writing are refused with EROFS, except writing seek.
func (n *Node) Open(flags int) (Handle, error) {
	k := kinds[n.file().Kind]
	if flags&(syscall.O_TRUNC|syscall.O_CREAT) != 0 ||
		(flags&syscall.O_ACCMODE != syscall.O_RDONLY && !k.writable()) {
		return nil, fmt.Errorf("open %s/%s for writing: %w", n.sandbox, n.path(), syscall.EROFS)
	}
	h, err := k.open(n)
	if err == nil && n.state != nil {
		err = n.keepState(h)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s/%s: %w", n.sandbox, n.path(), err)
	}
	return h, nil
}

// readOnly is the part of Handle that every read-only handle shares.
type readOnly struct{}

// Write fails: the handle is not open for writing.
func (readOnly) Write([]byte) (int, error) { return 0, syscall.EBADF }

// Flags returns DirectIO.
func (readOnly) Flags() OpenFlags { return DirectIO }
