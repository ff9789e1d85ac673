// Package checkpoint keeps ship's checkpoints: per sandbox, the cursor
// after the last record the receiver acknowledged, in a state directory
// that one ship process owns at a time. A checkpoint is written
// atomically and durably (a temporary file written and fsynced, renamed
// over the old one, the directory fsynced), so a crash at any moment
// leaves the old checkpoint or the new one, never a torn one.
//
// What a cursor means and how shipping resumes from it lives in ship;
// this package only stores and checks the files.
package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Format names the layout of a checkpoint file; a file of another format
// is refused as corrupt.
const Format = "msb-logfs-ship-checkpoint/1"

// maxFileSize bounds what Load reads: a checkpoint is a few hundred bytes.
const maxFileSize = 64 << 10

// suffix ends the name of every checkpoint file: <sandbox>.checkpoint.
const suffix = ".checkpoint"

// tempPrefix starts the name of a checkpoint being written.
const tempPrefix = ".tmp-"

// ErrCorrupt is wrapped by Load for a file that is not a checkpoint.
var ErrCorrupt = errors.New("corrupt checkpoint")

// ErrForeign is wrapped by Load for a checkpoint of another sandbox (a file
// copied or renamed by hand).
var ErrForeign = errors.New("checkpoint of another sandbox")

// ErrLocked is returned by Open when another process owns the directory.
var ErrLocked = errors.New("state directory in use by another msb-logfs ship")

// Checkpoint is where shipping resumes for one sandbox.
type Checkpoint struct {
	Format  string `json:"format"`
	Sandbox string `json:"sandbox"`
	// LogsIno and LogsBirth identify the sandbox's logs directory as the
	// engine does (engine.DirID): a sandbox removed and made again under
	// the same name is another sandbox, even when its directory took the
	// old one's inode number. LogsBirth is 0 where the filesystem keeps no
	// birth time, and in checkpoints written before it was kept.
	LogsIno   uint64 `json:"logs_ino"`
	LogsBirth int64  `json:"logs_birth,omitempty"`
	// LogsDev is the directory's device, which checkpoints written before
	// LogsBirth hold; it is read and not compared.
	LogsDev uint64 `json:"logs_dev,omitempty"`
	// Cursor is the cursor after the last acknowledged record.
	Cursor string `json:"cursor"`
	// ExecHead and ExecHeadLen fingerprint the exec.log file the cursor is
	// in: a hash of its first ExecHeadLen bytes, what it held (up to a
	// bound) when the checkpoint was saved; none when it was empty. The
	// filesystem reuses the inode number of a file rotation dropped; its
	// first bytes differ.
	ExecHead    string `json:"exec_head,omitempty"`
	ExecHeadLen int    `json:"exec_head_len,omitempty"`
	// ExecBirth is that file's birth time (Unix nanoseconds), which tells
	// it from a file that took its inode number even when it was empty;
	// 0 where the filesystem keeps none, and in checkpoints written before
	// it was kept.
	ExecBirth int64 `json:"exec_birth,omitempty"`
	// LastTime is that record's time (RFC 3339), to say how much a loss
	// spans.
	LastTime string `json:"last_time,omitempty"`
	// Saved is when the checkpoint was written.
	Saved time.Time `json:"saved"`
}

// Store is a state directory. It holds an exclusive lock on the directory
// until Close.
type Store struct {
	dir  string
	lock *os.File
}

// Open creates dir if missing (mode 0700) and locks it.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock state directory %s: %w", dir, err)
	}
	s := &Store{dir: dir, lock: lock}
	s.removeTemporaries()
	return s, nil
}

// removeTemporaries removes the temporary files a process killed while
// saving left behind; the lock says no other process is saving.
func (s *Store) removeTemporaries() {
	left, _ := filepath.Glob(filepath.Join(s.dir, tempPrefix+"*"))
	for _, path := range left {
		// os.CreateTemp puts digits for the "*"; a checkpoint ends in
		// .checkpoint (the one of a sandbox named .tmp-1 too).
		if rest := strings.TrimPrefix(filepath.Base(path), tempPrefix); rest != "" && strings.Trim(rest, "0123456789") == "" {
			os.Remove(path)
		}
	}
}

// Dir returns the state directory.
func (s *Store) Dir() string { return s.dir }

// Close releases the lock.
func (s *Store) Close() error { return s.lock.Close() }

// maxName is the longest file name the state directory's filesystem
// takes (NAME_MAX).
const maxName = 255

// Path returns the file of sandbox name's checkpoint: <name>.checkpoint,
// or for a name too long for that, long-<SHA-256 of the name>.checkpoint.
func (s *Store) Path(name string) string {
	if len(name)+len(suffix) > maxName {
		sum := sha256.Sum256([]byte(name))
		return filepath.Join(s.dir, "long-"+hex.EncodeToString(sum[:])+suffix)
	}
	return filepath.Join(s.dir, name+suffix)
}

// Load returns sandbox name's checkpoint, or nil when it has none. A file
// that is not a checkpoint wraps ErrCorrupt and one of another sandbox
// ErrForeign; both name the file, which is left as it is.
func (s *Store) Load(name string) (*Checkpoint, error) {
	path := s.Path(name)
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrCorrupt, path, maxFileSize)
	}
	var cp Checkpoint
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cp); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	switch {
	case cp.Format != Format:
		return nil, fmt.Errorf("%w: %s: format %q, want %q", ErrCorrupt, path, cp.Format, Format)
	case cp.Cursor == "":
		return nil, fmt.Errorf("%w: %s: no cursor", ErrCorrupt, path)
	case cp.Sandbox != name:
		return nil, fmt.Errorf("%w: %s holds sandbox %q's", ErrForeign, path, cp.Sandbox)
	}
	return &cp, nil
}

// Save writes cp as its sandbox's checkpoint: a temporary file in the
// directory, fsynced, renamed over the old one, then the directory
// fsynced.
func (s *Store) Save(cp *Checkpoint) error {
	cp.Format = Format
	path := s.Path(cp.Sandbox)
	data, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	data = append(data, '\n')
	tmp, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return saveError(path, "create a temporary file", err)
	}
	if err := writeSync(tmp, data); err != nil {
		os.Remove(tmp.Name())
		return saveError(path, "write", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return saveError(path, "rename over", err)
	}
	if err := syncDir(s.dir); err != nil {
		return saveError(path, "sync the directory", err)
	}
	return nil
}

// saveError describes a failed save by the checkpoint's path, the step
// and the system's reason, not by the temporary file's random name: the
// same failure reads the same every time (ship logs it once).
func saveError(path, step string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("save checkpoint %s: %s: %w", path, step, err)
}

// writeSync writes data to f, fsyncs and closes it.
func writeSync(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs directory dir, so that a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
