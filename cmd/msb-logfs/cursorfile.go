package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// cursorFile is --cursor-file: read once to resume, then replaced
// atomically (<path>.tmp, renamed over it) after every flush of output. The temporary file of the next update is
// created before anything is printed, so a directory that does not exist
// or is not writable fails the run before its first byte, not after its
// last (when `>> backup` would already hold output that the next run
// prints again).
type cursorFile struct {
	path string
	tmp  *os.File // the next update's temporary file; nil once used
}

// openCursorFile checks that path can be updated by creating the first
// temporary file, and returns the cursor file.
func openCursorFile(path string) (*cursorFile, error) {
	f := &cursorFile{path: path}
	if err := f.prepare(); err != nil {
		return nil, err
	}
	return f, nil
}

// prepare creates the temporary file of the next update.
func (f *cursorFile) prepare() error {
	tmp, err := os.OpenFile(f.path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("--cursor-file %s: cannot update it: %w", f.path, err)
	}
	f.tmp = tmp
	return nil
}

// read returns the cursor the file holds, or "" when it does not exist.
func (f *cursorFile) read() (string, error) {
	b, err := os.ReadFile(f.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("--cursor-file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// write replaces the file's content with cursor and a newline.
func (f *cursorFile) write(cursor string) error {
	if f.tmp == nil {
		if err := f.prepare(); err != nil {
			return err
		}
	}
	tmp := f.tmp
	f.tmp = nil
	_, err := tmp.WriteString(cursor + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("--cursor-file %s: %w", f.path, err)
	}
	return nil
}

// close removes the temporary file prepared and not used.
func (f *cursorFile) close() {
	if f == nil || f.tmp == nil {
		return
	}
	_ = f.tmp.Close()
	_ = os.Remove(f.tmp.Name())
	f.tmp = nil
}
