package cursorfs

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/cursorfs/cursorfstest"
	"github.com/microsandbox/msb-logfs/engine"
)

// TestConformance runs the conformance table against cursorfs directly;
// test/ runs the same table through a real mount.
func TestConformance(t *testing.T) { cursorfstest.Run(t, conformanceEnv(t, false)) }

// TestConformanceSession runs the session table against cursorfs directly;
// test/ runs it through a real mount.
func TestConformanceSession(t *testing.T) { cursorfstest.Run(t, conformanceEnv(t, true)) }

// TestConformanceTree runs the directories' table against cursorfs
// directly; test/ runs it through a real mount.
func TestConformanceTree(t *testing.T) {
	home, w := cursorfstest.NewHome(t, 200)
	cursorfstest.RunTree(t, cursorfstest.TreeEnv{Tree: tree{newFS(t, home)}, W: w})
}

// conformanceEnv makes the table's home and the Target of its sandbox's
// directory, or of its session's.
func conformanceEnv(t *testing.T, session bool) cursorfstest.Env {
	home, w := cursorfstest.NewHome(t, 200)
	dir := []string{cursorfstest.Box}
	if session {
		dir = append(dir, sessionsName, strconv.Itoa(cursorfstest.SessionID))
	}
	return cursorfstest.Env{Target: target{fs: newFS(t, home), dir: dir}, W: w, Session: session}
}

// newFS returns the FS of the home in directory home.
func newFS(t *testing.T, home string) *FS {
	h, err := engine.OpenHome(home)
	must(t, err)
	t.Cleanup(func() { _ = h.Close() })
	fsys := New(h)
	t.Cleanup(fsys.Shutdown)
	return fsys
}

// target is the conformance Target of the directory at dir.
type target struct {
	fs  *FS
	dir []string
}

func (g target) List() ([]string, error) {
	d, err := dirAt(g.fs, g.dir...)
	if err != nil {
		return nil, errnoErr(err)
	}
	ents, err := d.List()
	var names []string
	for _, e := range ents {
		if !e.Dir {
			names = append(names, e.Name)
		}
	}
	return names, errnoErr(err)
}

// lookup resolves name in the target's directory.
func (g target) lookup(name string) (*Node, error) {
	return nodeAt(g.fs, append(slices.Clone(g.dir), name)...)
}

func (g target) Size(name string) (int64, error) {
	n, err := g.lookup(name)
	if err != nil {
		return 0, errnoErr(err)
	}
	a, err := n.Stat()
	return a.Size, errnoErr(err)
}

func (g target) Open(name string, flags int) (cursorfstest.File, error) {
	n, err := g.lookup(name)
	if err != nil {
		return nil, errnoErr(err)
	}
	h, err := n.Open(flags)
	if err != nil {
		return nil, errnoErr(err)
	}
	return &file{h: h, flags: flags}, nil
}

// file is an open Handle as the table uses it: reads of a blocking handle
// give up after a minute (EINTR) so that a bug fails instead of hanging.
type file struct {
	h     Handle
	flags int
	pos   int64
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := f.h.Read(ctx, p, off, f.flags&syscall.O_NONBLOCK != 0)
	return n, errnoErr(err)
}

func (f *file) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

func (f *file) Write(p []byte) (int, error) {
	if f.flags&syscall.O_ACCMODE == syscall.O_RDONLY {
		return 0, syscall.EBADF // the kernel's answer; the handle's own is tested too
	}
	n, err := f.h.Write(p)
	return n, errnoErr(err)
}

func (f *file) Size() (int64, error) {
	size, _ := f.h.Stat()
	return size, nil
}

func (f *file) Close() error { return errnoErr(f.h.Close()) }

// tree is the conformance Tree of an FS: a name is resolved and stat-ed
// as the kernel does, with Lookup then Stat.
type tree struct{ fs *FS }

func (g tree) ReadDir(path string) ([]cursorfstest.DirEntry, error) {
	d, err := dirAt(g.fs, split(path)...)
	if err != nil {
		return nil, errnoErr(err)
	}
	ents, err := d.List()
	out := make([]cursorfstest.DirEntry, len(ents))
	for i, e := range ents {
		out[i] = cursorfstest.DirEntry{Name: e.Name, Ino: e.Ino, Dir: e.Dir}
	}
	return out, errnoErr(err)
}

func (g tree) Stat(path string) (cursorfstest.Stat, error) {
	c, err := walk(g.fs, split(path)...)
	if err != nil {
		return cursorfstest.Stat{}, errnoErr(err)
	}
	if n, ok := c.(*Node); ok {
		a, err := n.Stat()
		return cursorfstest.Stat{Ino: n.Ino(), Perm: a.Perm.Mode, Nlink: 1, ModTime: a.ModTime, ChangeTime: a.ModTime}, errnoErr(err)
	}
	a, err := c.(*Dir).Stat()
	return cursorfstest.Stat{Ino: c.Ino(), Dir: true, Perm: a.Perm.Mode, Nlink: 2 + uint32(a.Subdirs), ModTime: a.ModTime, ChangeTime: a.ChangeTime}, errnoErr(err)
}

// split returns the names of path, relative to the root ("" is the root).
func split(path string) []string {
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// errnoErr turns an error into its errno, as a system call returns it.
func errnoErr(err error) error {
	if err == nil {
		return nil
	}
	return Errno(err)
}

// TestReadOnlyHandleWrite: every handle but seek's refuses a write itself
// (EBADF), whatever the caller checked before.
func TestReadOnlyHandleWrite(t *testing.T) {
	b := newBox(t, "box", 10, 0)
	for _, name := range []string{"merged", "stdout.follow", "stdout.live", "cursor"} {
		n, err := nodeAt(b.fs, "box", name)
		must(t, err)
		h, err := n.Open(syscall.O_RDONLY)
		must(t, err)
		if _, err := h.Write([]byte("start\n")); Errno(err) != syscall.EBADF {
			t.Errorf("write to %s: %v, want EBADF", name, err)
		}
		if h.Flags() != DirectIO {
			t.Errorf("%s: open flags %#x, want DirectIO", name, h.Flags())
		}
		must(t, h.Close())
	}
}
