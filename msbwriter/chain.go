package msbwriter

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// chainWriter is the buffered exec.log writer of GenerateCorpus. It rotates
// exactly as Sandbox.Rotate does (RotateChain, then a new exec.log), but
// builds lines into a large bufio.Writer instead of one write(2) per line.
type chainWriter struct {
	dir       string
	rotateAt  int64
	keepAll   bool // refuse the rotation that would drop exec.log.4
	f         *os.File
	w         *bufio.Writer
	size      int64
	rotations int
}

// errChainFull reports that the next rotation would drop data while keepAll
// is set.
var errChainFull = errors.New("msbwriter: exec chain full")

const chainBufSize = 1 << 20

// newChainWriter removes any exec chain in dir and creates an empty exec.log.
func newChainWriter(dir string, rotateAt int64, keepAll bool) (*chainWriter, error) {
	for i := 1; i < ChainLen; i++ {
		err := os.Remove(filepath.Join(dir, ChainName(i)))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("msbwriter: remove old chain: %w", err)
		}
	}
	c := &chainWriter{dir: dir, rotateAt: rotateAt, keepAll: keepAll}
	if err := c.open(os.O_TRUNC); err != nil {
		return nil, err
	}
	return c, nil
}

// open creates exec.log for appending (with extra flags) and a buffer on it.
func (c *chainWriter) open(flags int) error {
	path := filepath.Join(c.dir, ExecLog)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|flags, 0o644)
	if err != nil {
		return fmt.Errorf("msbwriter: open exec.log: %w", err)
	}
	c.f, c.size = f, 0
	if c.w == nil {
		c.w = bufio.NewWriterSize(f, chainBufSize)
	} else {
		c.w.Reset(f)
	}
	return nil
}

// write appends line, rotating first when it would take exec.log past
// rotateAt. It returns errChainFull, writing nothing, when keepAll is set
// and the rotation would drop the oldest file.
func (c *chainWriter) write(line []byte) error {
	if c.size > 0 && c.size+int64(len(line)) > c.rotateAt {
		if c.keepAll && c.rotations >= ChainLen-1 {
			return errChainFull
		}
		if err := c.rotate(); err != nil {
			return err
		}
	}
	n, err := c.w.Write(line)
	c.size += int64(n)
	if err != nil {
		return fmt.Errorf("msbwriter: write exec.log: %w", err)
	}
	return nil
}

// rotate flushes and closes exec.log, renames the chain and opens a new
// exec.log.
func (c *chainWriter) rotate() error {
	if err := c.closeFile(); err != nil {
		return err
	}
	if err := RotateChain(c.dir); err != nil {
		return err
	}
	c.rotations++
	return c.open(0)
}

// closeFile flushes the buffer and closes exec.log.
func (c *chainWriter) closeFile() error {
	if err := c.w.Flush(); err != nil {
		_ = c.f.Close()
		return fmt.Errorf("msbwriter: flush exec.log: %w", err)
	}
	if err := c.f.Close(); err != nil {
		return fmt.Errorf("msbwriter: close exec.log: %w", err)
	}
	return nil
}

// textWriter is a buffered, truncating writer of runtime.log or kernel.log.
type textWriter struct {
	f     *os.File
	w     *bufio.Writer
	lines int64
}

func newTextWriter(path string) (*textWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("msbwriter: create text log: %w", err)
	}
	return &textWriter{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// writeLine writes line, which must end in '\n'.
func (t *textWriter) writeLine(line []byte) error {
	t.lines++
	if _, err := t.w.Write(line); err != nil {
		return fmt.Errorf("msbwriter: write text log: %w", err)
	}
	return nil
}

func (t *textWriter) close() error {
	if err := t.w.Flush(); err != nil {
		_ = t.f.Close()
		return fmt.Errorf("msbwriter: flush text log: %w", err)
	}
	if err := t.f.Close(); err != nil {
		return fmt.Errorf("msbwriter: close text log: %w", err)
	}
	return nil
}
