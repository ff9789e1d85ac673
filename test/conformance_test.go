package test

import (
	"bytes"
	encbin "encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/microsandbox/msb-logfs/cursorfs/cursorfstest"
)

// TestConformanceMount runs the conformance table of cursorfs through a
// real mount, with raw system calls (open, pread, read, write, fstat).
func TestConformanceMount(t *testing.T) {
	home, w := cursorfstest.NewHome(t, 200)
	m := mount(t, home)
	cursorfstest.Run(t, cursorfstest.Env{Target: mountTarget{m.path(cursorfstest.Box)}, W: w})
}

// TestConformanceSessionMount runs the session table of cursorfs through a
// real mount, on sessions/1/.
func TestConformanceSessionMount(t *testing.T) {
	home, w := cursorfstest.NewHome(t, 200)
	m := mount(t, home)
	dir := m.path(cursorfstest.Box, "sessions", strconv.Itoa(cursorfstest.SessionID))
	cursorfstest.Run(t, cursorfstest.Env{Target: mountTarget{dir}, W: w, Session: true})
}

// TestConformanceTreeMount runs the directories' table of cursorfs through
// a real mount: getdents and lstat.
func TestConformanceTreeMount(t *testing.T) {
	home, w := cursorfstest.NewHome(t, 200)
	m := mount(t, home)
	cursorfstest.RunTree(t, cursorfstest.TreeEnv{Tree: mountTree{m.dir}, W: w})
}

// mountTree is the conformance Tree of a mount.
type mountTree struct{ root string }

// ReadDir reads the directory with getdents64, for the inode numbers and
// types it gives, leaving out . and ..
func (g mountTree) ReadDir(path string) ([]cursorfstest.DirEntry, error) {
	fd, err := unix.Open(filepath.Join(g.root, path), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var ents []cursorfstest.DirEntry
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return ents, nil
		}
		ents = appendDirents(ents, buf[:n])
	}
}

// appendDirents appends the entries of the linux_dirent64 records in b
// (ino, off, reclen, type, name), but . and ..
func appendDirents(ents []cursorfstest.DirEntry, b []byte) []cursorfstest.DirEntry {
	for len(b) >= 19 {
		reclen := int(encbin.NativeEndian.Uint16(b[16:18]))
		if reclen < 19 || reclen > len(b) {
			return ents
		}
		name, _, _ := bytes.Cut(b[19:reclen], []byte{0})
		if n := string(name); n != "." && n != ".." {
			ents = append(ents, cursorfstest.DirEntry{
				Name: n,
				Ino:  encbin.NativeEndian.Uint64(b[0:8]),
				Dir:  b[18] == unix.DT_DIR,
			})
		}
		b = b[reclen:]
	}
	return ents
}

func (g mountTree) Stat(path string) (cursorfstest.Stat, error) {
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(g.root, path), &st); err != nil {
		return cursorfstest.Stat{}, err
	}
	return cursorfstest.Stat{
		Ino:        st.Ino,
		Dir:        st.Mode&unix.S_IFMT == unix.S_IFDIR,
		Perm:       st.Mode & 0o777,
		Nlink:      uint32(st.Nlink),
		ModTime:    time.Unix(st.Mtim.Unix()),
		ChangeTime: time.Unix(st.Ctim.Unix()),
	}, nil
}

// mountTarget is the conformance Target of a sandbox directory of a mount.
type mountTarget struct{ dir string }

func (g mountTarget) List() ([]string, error) {
	ents, err := os.ReadDir(g.dir)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, unwrapErrno(err)
}

// Size runs stat(1): a stat by name from a process that has the file open
// is taken for an fstat of its newest handle (the kernel sends both as a
// GETATTR without the handle), so a stat by name comes from another one.
func (g mountTarget) Size(name string) (int64, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("stat", "-c", "%s", filepath.Join(g.dir, name))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "No such file or directory") {
			return 0, syscall.ENOENT
		}
		return 0, fmt.Errorf("stat %s: %w: %s", name, err, stderr.Bytes())
	}
	return strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
}

func (g mountTarget) Open(name string, flags int) (cursorfstest.File, error) {
	fd, err := unix.Open(filepath.Join(g.dir, name), flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return rawFile(fd), nil
}

// rawFile is a file descriptor used with plain system calls, outside Go's
// poller.
type rawFile int

func (f rawFile) ReadAt(p []byte, off int64) (int, error) {
	return retry(func() (int, error) { return unix.Pread(int(f), p, off) })
}
func (f rawFile) Read(p []byte) (int, error) {
	return retry(func() (int, error) { return unix.Read(int(f), p) })
}
func (f rawFile) Write(p []byte) (int, error) { return unix.Write(int(f), p) }
func (f rawFile) Close() error                { return unix.Close(int(f)) }

func (f rawFile) Size() (int64, error) {
	var st unix.Stat_t
	err := unix.Fstat(int(f), &st)
	return st.Size, err
}

// retry calls read again while it fails with EINTR (the Go runtime's
// signals interrupt a blocked read, as Go's own os package retries).
func retry(read func() (int, error)) (int, error) {
	for {
		n, err := read()
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// unwrapErrno returns the errno inside err, or err.
func unwrapErrno(err error) error {
	if errno := errnoOf(err); errno != 0 {
		return errno
	}
	return err
}
