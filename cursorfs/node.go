package cursorfs

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// Node is one file of a sandbox directory, resolved by name. It owns the
// file's behaviour: what stat by name shows and what an open returns. A
// Node holds no engine object: the sandbox is found again at every Stat
// and Open, so a sandbox removed and created again is shown afresh.
type Node struct {
	fs      *FS
	sandbox string
	index   int // in Files
}

// Attr is what stat shows of a file: its size, modification time (also its
// change time) and owner and mode.
type Attr struct {
	Size    int64
	ModTime time.Time
	Perm    Perm
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
)

// Entry is a name a sandbox directory lists.
type Entry struct {
	Name  string
	Index int // in Files: stable, inode numbers derive from it
}

// Lookup resolves name in sandbox's directory, listed or not. It fails
// with ENOENT for a name that no sandbox directory holds; whether the
// sandbox and the file exist now is for Stat to say.
func (f *FS) Lookup(sandbox, name string) (*Node, error) {
	i := LookupFile(name)
	if i < 0 {
		return nil, fmt.Errorf("%s/%s: %w", sandbox, name, syscall.ENOENT)
	}
	return &Node{fs: f, sandbox: sandbox, index: i}, nil
}

// List returns the names sandbox's directory lists now: with all, also
// the files found by name only. boot-error.json is there only when the
// sandbox has one. No log file is opened.
func (f *FS) List(sandbox string, all bool) ([]Entry, error) {
	bootError, err := f.home.StatSandbox(sandbox)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", sandbox, err)
	}
	var ents []Entry
	for i, file := range Files {
		if (!file.Listed && !all) || (file.Kind == KindBootError && !bootError) {
			continue
		}
		ents = append(ents, Entry{Name: file.Name, Index: i})
	}
	return ents, nil
}

// Sandboxes returns the names of the sandboxes that exist now.
func (f *FS) Sandboxes() ([]string, error) { return f.home.List() }

// Name returns the file's name.
func (n *Node) Name() string { return Files[n.index].Name }

// Index returns the file's index in Files.
func (n *Node) Index() int { return n.index }

// Sandbox returns the name of the file's sandbox.
func (n *Node) Sandbox() string { return n.sandbox }

// Stat returns what an open now would show: its size and time, and the
// file's owner and mode.
func (n *Node) Stat() (Attr, error) {
	size, mt, err := kinds[Files[n.index].Kind].stat(n)
	if err != nil {
		return Attr{}, err
	}
	p, err := n.Perm()
	if err != nil {
		return Attr{}, err
	}
	return Attr{Size: size, ModTime: mt, Perm: p}, nil
}

// Perm returns the file's owner and mode.
func (n *Node) Perm() (Perm, error) { return n.fs.filePerm(n.sandbox, n.index) }

// Open opens the file with the open(2) flags given. Creating, truncating
// and writing are refused with EROFS, except writing seek.
func (n *Node) Open(flags int) (Handle, error) {
	file := Files[n.index]
	k := kinds[file.Kind]
	if flags&(syscall.O_TRUNC|syscall.O_CREAT) != 0 ||
		(flags&syscall.O_ACCMODE != syscall.O_RDONLY && !k.writable()) {
		return nil, fmt.Errorf("open %s/%s for writing: %w", n.sandbox, file.Name, syscall.EROFS)
	}
	h, err := k.open(n)
	if err != nil {
		return nil, fmt.Errorf("open %s/%s: %w", n.sandbox, file.Name, err)
	}
	return h, nil
}

// readOnly is the part of Handle that every read-only handle shares.
type readOnly struct{}

// Write fails: the handle is not open for writing.
func (readOnly) Write([]byte) (int, error) { return 0, syscall.EBADF }

// Flags returns DirectIO.
func (readOnly) Flags() OpenFlags { return DirectIO }
