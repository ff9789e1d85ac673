// Package mountinfo reads the kernel's mount table, /proc/self/mountinfo
// (proc(5)): one line per mount, with its device, mountpoint and type.
package mountinfo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Path is the mount table of the calling process.
const Path = "/proc/self/mountinfo"

// maxLine bounds one line of the table: a path is at most PATH_MAX (4096)
// bytes, escaped up to four times longer, and a line holds two of them
// plus options.
const maxLine = 1 << 20

// Mount is one line of the table.
type Mount struct {
	ID, Parent   int
	Major, Minor uint32 // the device of the filesystem (st_dev)
	Root         string // the directory of the filesystem mounted
	Point        string // the mountpoint, unescaped
	FSType       string // fuse.msb-logfs, ext4, …
	Source       string // unescaped
}

// ParseLine reads one line of the table. A line with too few fields, or a
// bad number, is an error.
func ParseLine(line string) (Mount, error) {
	pre, post, ok := strings.Cut(line, " - ")
	f, g := strings.Fields(pre), strings.Fields(post)
	if !ok || len(f) < 6 || len(g) < 2 {
		return Mount{}, fmt.Errorf("mountinfo: malformed line %.80q", line)
	}
	var m Mount
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil {
		return Mount{}, fmt.Errorf("mountinfo: mount id: %w", err)
	}
	if m.Parent, err = strconv.Atoi(f[1]); err != nil {
		return Mount{}, fmt.Errorf("mountinfo: parent id: %w", err)
	}
	if m.Major, m.Minor, err = parseDev(f[2]); err != nil {
		return Mount{}, err
	}
	m.Root, m.Point = Unescape(f[3]), Unescape(f[4])
	m.FSType, m.Source = Unescape(g[0]), Unescape(g[1])
	return m, nil
}

// parseDev reads "major:minor".
func parseDev(s string) (major, minor uint32, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("mountinfo: device %q: want major:minor", s)
	}
	ma, err := strconv.ParseUint(a, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("mountinfo: device major: %w", err)
	}
	mi, err := strconv.ParseUint(b, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("mountinfo: device minor: %w", err)
	}
	return uint32(ma), uint32(mi), nil
}

// Parse reads a whole table. A malformed line is an error: the kernel
// writes none, so the input is not a mount table.
func Parse(r io.Reader) ([]Mount, error) {
	var mounts []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		if sc.Text() == "" {
			continue
		}
		m, err := ParseLine(sc.Text())
		if err != nil {
			return nil, err
		}
		mounts = append(mounts, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	return mounts, nil
}

// Read reads the calling process's table.
func Read() ([]Mount, error) {
	f, err := os.Open(Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// ErrNotFound is returned by Find when no mount matches.
var ErrNotFound = errors.New("mountinfo: no such mount")

// Find returns the last mount of the table (the one on top) at point that
// match accepts; match nil accepts any.
func Find(point string, match func(Mount) bool) (Mount, error) {
	mounts, err := Read()
	if err != nil {
		return Mount{}, err
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		if m := mounts[i]; m.Point == point && (match == nil || match(m)) {
			return m, nil
		}
	}
	return Mount{}, ErrNotFound
}

// Unescape undoes the octal escapes the kernel writes for a space, tab,
// newline and backslash in paths (\040, \011, \012, \134). Anything else is
// kept as it is.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
