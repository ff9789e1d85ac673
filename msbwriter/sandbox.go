package msbwriter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultRotateAt is microsandbox's exec.log rotation size: 10 MiB.
const DefaultRotateAt = 10 << 20

// File names inside a sandbox's logs directory.
const (
	ExecLog       = "exec.log"
	RuntimeLog    = "runtime.log"
	KernelLog     = "kernel.log"
	BootErrorJSON = "boot-error.json"
	// ChainLen is the number of exec files kept: exec.log and exec.log.1..4.
	ChainLen = 5
)

// ErrClosed is returned by every method of a closed Sandbox.
var ErrClosed = errors.New("msbwriter: sandbox is closed")

// Options configures a Sandbox.
type Options struct {
	// RotateAt is the size exec.log may not exceed by an append: before a
	// line of n bytes is appended to a non-empty exec.log of size z, the
	// chain is rotated if z+n > RotateAt. 0 means DefaultRotateAt.
	RotateAt int64
}

// Sandbox writes the logs of one sandbox:
// <home>/sandboxes/<name>/logs/{exec.log, exec.log.1..4, runtime.log,
// kernel.log, boot-error.json}. It is safe for concurrent use; one mutex
// serialises every write.
type Sandbox struct {
	mu       sync.Mutex
	dir      string
	rotateAt int64
	exec     *os.File
	execSize int64
	runtime  *os.File // opened on first write
	kernel   *os.File // opened on first write
	buf      []byte
	closed   bool
}

// LogsDir returns the logs directory of sandbox name in home.
func LogsDir(home, name string) string {
	return filepath.Join(home, "sandboxes", name, "logs")
}

// ChainName returns the name of exec file i of the chain: exec.log for 0,
// exec.log.i for 1..4.
func ChainName(i int) string {
	if i == 0 {
		return ExecLog
	}
	return fmt.Sprintf("%s.%d", ExecLog, i)
}

// Create creates <home>/sandboxes/<name>/logs (with parents) and opens
// exec.log for appending, creating it if missing. An existing exec.log is
// appended to. runtime.log and kernel.log are opened on their first write.
func Create(home, name string, opts Options) (*Sandbox, error) {
	dir := LogsDir(home, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("msbwriter: create logs dir: %w", err)
	}
	s := &Sandbox{dir: dir, rotateAt: opts.RotateAt}
	if s.rotateAt <= 0 {
		s.rotateAt = DefaultRotateAt
	}
	if err := s.openExec(); err != nil {
		return nil, err
	}
	return s, nil
}

// LogsDir returns the sandbox's logs directory.
func (s *Sandbox) LogsDir() string { return s.dir }

// Exec appends the JSONL line of c to exec.log in one write(2), rotating
// first if the line would take exec.log past RotateAt. A zero c.Time is
// replaced by the current time.
func (s *Sandbox) Exec(c Chunk) error {
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = AppendLine(s.buf[:0], c)
	return s.appendExec(s.buf)
}

// ExecLine appends raw to exec.log as it is, in one write(2) and without
// adding a newline: for malformed lines, partial lines and the like. It is
// subject to the same rotation check as Exec.
func (s *Sandbox) ExecLine(raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendExec(raw)
}

// Runtime appends line and "\n" to runtime.log.
func (s *Sandbox) Runtime(line string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendText(&s.runtime, RuntimeLog, line)
}

// Kernel appends line and "\n" to kernel.log.
func (s *Sandbox) Kernel(line string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendText(&s.kernel, KernelLog, line)
}

// Rotate rotates the exec chain as microsandbox does: exec.log.3 is renamed
// over exec.log.4 (whose old file is gone), .2 to .3, .1 to .2 and exec.log
// to exec.log.1, skipping names that do not exist; then a new exec.log (a new
// inode) is created and later appends go there.
func (s *Sandbox) Rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.rotate()
}

// BootError writes boot-error.json with content json (replacing any previous
// one atomically through a temporary file and a rename).
func (s *Sandbox) BootError(json string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	tmp := filepath.Join(s.dir, "."+BootErrorJSON+".tmp")
	if err := os.WriteFile(tmp, []byte(json), 0o644); err != nil {
		return fmt.Errorf("msbwriter: write boot error: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, BootErrorJSON)); err != nil {
		return fmt.Errorf("msbwriter: write boot error: %w", err)
	}
	return nil
}

// Close closes every open file. Later calls of any method return ErrClosed;
// a second Close returns nil.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, f := range []*os.File{s.exec, s.runtime, s.kernel} {
		if f != nil {
			if err := f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("msbwriter: close: %w", err))
			}
		}
	}
	s.exec, s.runtime, s.kernel = nil, nil, nil
	return errors.Join(errs...)
}

// appendExec writes line to exec.log, rotating first when needed. s.mu is
// held.
func (s *Sandbox) appendExec(line []byte) error {
	if s.closed {
		return ErrClosed
	}
	if s.execSize > 0 && s.execSize+int64(len(line)) > s.rotateAt {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	n, err := s.exec.Write(line)
	s.execSize += int64(n)
	if err != nil {
		return fmt.Errorf("msbwriter: append exec.log: %w", err)
	}
	return nil
}

// appendText appends line and a newline to the text log *f (opening it as
// name on first use) in one write(2). s.mu is held.
func (s *Sandbox) appendText(f **os.File, name, line string) error {
	if s.closed {
		return ErrClosed
	}
	if *f == nil {
		nf, err := openAppend(filepath.Join(s.dir, name))
		if err != nil {
			return err
		}
		*f = nf
	}
	s.buf = append(append(s.buf[:0], line...), '\n')
	if _, err := (*f).Write(s.buf); err != nil {
		return fmt.Errorf("msbwriter: append %s: %w", name, err)
	}
	return nil
}

// rotate renames the chain and opens a new exec.log. s.mu is held.
func (s *Sandbox) rotate() error {
	if err := RotateChain(s.dir); err != nil {
		return err
	}
	old := s.exec
	if err := s.openExec(); err != nil {
		return err
	}
	if err := old.Close(); err != nil {
		return fmt.Errorf("msbwriter: close rotated exec.log: %w", err)
	}
	return nil
}

// openExec opens (creating) exec.log for appending and records its size.
func (s *Sandbox) openExec() error {
	f, err := openAppend(filepath.Join(s.dir, ExecLog))
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("msbwriter: stat exec.log: %w", err)
	}
	s.exec, s.execSize = f, fi.Size()
	return nil
}

// openAppend opens path write-only in append mode, creating it if missing.
func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("msbwriter: open: %w", err)
	}
	return f, nil
}

// RotateChain performs the renames of a rotation in dir: exec.log.3 over
// exec.log.4, .2 to .3, .1 to .2, exec.log to exec.log.1, skipping names
// that do not exist. It does not create the new exec.log.
func RotateChain(dir string) error {
	for i := ChainLen - 2; i >= 0; i-- {
		from := filepath.Join(dir, ChainName(i))
		to := filepath.Join(dir, ChainName(i+1))
		if err := os.Rename(from, to); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("msbwriter: rotate: %w", err)
		}
	}
	return nil
}
