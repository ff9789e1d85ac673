package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// DirPrefix names the directory that holds a process's render cache:
// <cache dir>/msb-logfs-cache.<pid>/chunks.<n>, one file per home, removed
// on a clean exit. `du -sh /var/tmp/msb-logfs-cache.*` shows what the
// caches hold on disk; the directory of a process that is gone is removed
// by the next one that makes its own.
const DirPrefix = "msb-logfs-cache."

// cacheFile is the file of a Store.
type cacheFile struct {
	f     *os.File
	path  string // "" once unlinked (or when made without a name)
	block int64  // allocation unit: the filesystem's block size
}

var cacheFileSerial atomic.Uint64

// open makes the store's file if it has none, at the first chunk stored
// (not when a cache is made: a stat that restores a saved index, the
// first request after a remount, makes no file). If it cannot be made, the
// store keeps nothing and does not try again. Called with s.mu held.
func (s *Store) open() bool {
	if s.f != nil {
		return true
	}
	if s.broken || s.closed {
		return false
	}
	f, err := createCacheFile(s.Dir)
	if err != nil {
		slog.Debug("render cache off", "err", err)
		s.broken = true
		return false
	}
	s.f = f
	return true
}

// createCacheFile creates chunks.<n> in this process's cache directory
// under dir, or an unnamed file in dir where that directory cannot be
// made (a name squatted by another user, say).
func createCacheFile(dir string) (*cacheFile, error) {
	var st unix.Statfs_t
	block := int64(4096)
	if unix.Statfs(dir, &st) == nil && st.Bsize > 0 && st.Bsize <= 1<<20 {
		block = st.Bsize
	}
	own, err := ownCacheDir(dir)
	if err == nil {
		p := filepath.Join(own, fmt.Sprintf("chunks.%d", cacheFileSerial.Add(1)))
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return &cacheFile{f: f, path: p, block: block}, nil
		}
	}
	f, err := tempFile(dir)
	if err != nil {
		return nil, err
	}
	return &cacheFile{f: f, block: block}, nil
}

// ownCacheDir makes (or finds) <dir>/msb-logfs-cache.<pid>, a directory of
// ours, and removes those of processes that are gone.
func ownCacheDir(dir string) (string, error) {
	removeStaleCacheDirs(dir)
	p := filepath.Join(dir, DirPrefix+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("render cache: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return "", fmt.Errorf("render cache: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != uint32(os.Geteuid()) {
		return "", fmt.Errorf("render cache: %s is not a directory of ours", p)
	}
	return p, nil
}

// removeStaleCacheDirs removes the cache directories, owned by us, of
// processes that no longer run.
func removeStaleCacheDirs(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), DirPrefix))
		if !strings.HasPrefix(e.Name(), DirPrefix) || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if unix.Kill(pid, 0) != unix.ESRCH {
			continue
		}
		p := filepath.Join(dir, e.Name())
		var st unix.Stat_t
		if unix.Lstat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Uid == uint32(os.Geteuid()) {
			_ = os.RemoveAll(p)
		}
	}
}

// tempFile opens an anonymous file in dir (O_TMPFILE), or creates and
// unlinks one where the filesystem lacks O_TMPFILE.
func tempFile(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), dir+"/(render cache)"), nil
	}
	f, err := os.CreateTemp(dir, ".msb-logfs-cache-*")
	if err != nil {
		return nil, fmt.Errorf("render cache: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

// punch frees the blocks of [off, off+n) and keeps the file's size.
func (c *cacheFile) punch(off, n int64) error {
	return unix.Fallocate(int(c.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}

// unlink removes the file's name, and its directory once empty.
func (c *cacheFile) unlink() {
	if c.path == "" {
		return
	}
	os.Remove(c.path)
	os.Remove(filepath.Dir(c.path)) // fails while another home's file is there
	c.path = ""
}

// unlinked reports whether the named file has lost its last name (a
// file made without one never reports it).
func (c *cacheFile) unlinked() bool {
	if c.path == "" {
		return false
	}
	var st unix.Stat_t
	return unix.Fstat(int(c.f.Fd()), &st) == nil && st.Nlink == 0
}

// close unlinks and closes the file.
func (c *cacheFile) close() {
	c.unlink()
	c.f.Close()
}

// ReadAt and WriteAt are the file's.
func (c *cacheFile) ReadAt(p []byte, off int64) (int, error)  { return c.f.ReadAt(p, off) }
func (c *cacheFile) WriteAt(p []byte, off int64) (int, error) { return c.f.WriteAt(p, off) }
