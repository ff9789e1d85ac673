package cursorfs

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// maxPositionLine bounds a line written to seek.
const maxPositionLine = 4096

// seekHandle is an open seek file: a position in the merged view, kept here
// (the file is a stream: every read arrives at offset 0). Reads render
// merged.jsonl from the position; each written line moves it. A new handle
// starts at the start. Safe for concurrent use.
type seekHandle struct {
	sb *engine.Sandbox

	mu sync.Mutex
	r  *engine.Reader
}

// openSeek returns a seek handle of sb at the start.
func openSeek(sb *engine.Sandbox) *seekHandle {
	return &seekHandle{sb: sb, r: sb.NewReader(engine.ViewMergedJSON, engine.State{})}
}

// Read renders merged.jsonl from the handle's position; off is ignored (a
// stream's reads all arrive at 0). At the end of what exists it returns 0
// (end of file) at once; a later Read returns what was appended since.
func (s *seekHandle) Read(_ context.Context, p []byte, _ int64, _ bool) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.r.Read(p)
	if err != nil {
		return n, fmt.Errorf("seek %s: %w", s.sb.Name(), err)
	}
	return n, nil
}

// Write repositions the handle by one line (its final newline optional): a
// cursor resumes strictly after it, "start" at the start, "end" at the
// current end, an RFC 3339 time at the first merged entry at or after it.
// Anything else fails with an error that Errno maps to EINVAL, and leaves
// the position unchanged. Bytes not yet read are dropped.
// It returns len(line) when the position moved.
func (s *seekHandle) Write(line []byte) (int, error) {
	st, err := s.parse(line)
	if err != nil {
		return 0, fmt.Errorf("seek %s: %w", s.sb.Name(), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r.SetState(st)
	if string(bytes.TrimSpace(line)) == "end" {
		if err := s.drain(); err != nil {
			return 0, err
		}
	}
	return len(line), nil
}

// Stat returns no size (a stream) and the sandbox's time now.
func (s *seekHandle) Stat() (int64, time.Time) {
	mt, _ := s.sb.ModTime() // a removed sandbox shows the zero time
	return 0, mt
}

// Flags makes seek a stream whose position the server keeps.
func (s *seekHandle) Flags() OpenFlags { return DirectIO | Stream | NonSeekable }

// parse turns a written line into a state.
func (s *seekHandle) parse(line []byte) (engine.State, error) {
	if len(line) > maxPositionLine {
		return engine.State{}, fmt.Errorf("%w: %d bytes", errBadPosition, len(line))
	}
	text := bytes.TrimSuffix(line, []byte{'\n'})
	text = bytes.TrimSuffix(text, []byte{'\r'})
	if bytes.ContainsAny(text, "\r\n") {
		return engine.State{}, fmt.Errorf("%w: more than one line", errBadPosition)
	}
	word := string(bytes.TrimSpace(text))
	switch word {
	case "":
		return engine.State{}, fmt.Errorf("%w: empty line", errBadPosition)
	case "start":
		return engine.State{}, nil
	case "end":
		return s.sb.EndState()
	}
	if t, ok := engine.ParseTime(word); ok {
		return s.sb.StateAtTime(t)
	}
	c, err := engine.ParseCursor(word)
	if err != nil {
		return engine.State{}, err
	}
	return s.sb.StateAt(c)
}

// drain moves the reader from the end state held by the sandbox (up to
// engine.HoldFor old) to the true end of the files, dropping what it
// renders on the way.
func (s *seekHandle) drain() error {
	buf := make([]byte, 64<<10)
	for {
		n, err := s.r.Read(buf)
		if err != nil {
			return fmt.Errorf("seek %s: %w", s.sb.Name(), err)
		}
		if n == 0 {
			return nil
		}
	}
}

// Close releases the files the handle holds.
func (s *seekHandle) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r.Close()
	return nil
}
