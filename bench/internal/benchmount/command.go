package benchmount

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Timed is one timed run of a command.
type Timed struct {
	Wall      time.Duration
	MaxRSSKiB int64 // the command's peak RSS, when Cmd.PeakRSS (else 0)
	Lines     int   // lines it wrote on stdout, when counted
	Matched   int   // of them, those Cmd.Match reported
}

// Seconds is Wall in seconds.
func (t Timed) Seconds() float64 { return t.Wall.Seconds() }

// Cmd is a command to time.
type Cmd struct {
	Argv  []string
	Limit time.Duration // killed after this long
	// Count counts its stdout's lines (else stdout goes to /dev/null);
	// Match, when set, is called for each line (without its newline, cut
	// at maxLine bytes).
	Count bool
	Match func(line []byte) bool
	// PeakRSS takes the command's peak RSS with GNU time (-f %M) when
	// /usr/bin/time is there. The rusage Go's wait returns is no use: the
	// child is cloned with this process's memory (CLONE_VM), whose peak
	// exec carries over into the child's.
	PeakRSS bool
}

// gnuTime is GNU time, which forks the command from a process of its own.
const gnuTime = "/usr/bin/time"

// ErrTimeout is returned by Run for a command killed at its time limit.
var ErrTimeout = errors.New("timed out")

// errTailBytes bounds the stderr a failed command's error quotes.
const errTailBytes = 300

// Run runs c with stdin from /dev/null and returns how long it took. A
// command that fails or is killed returns an error quoting the end of its
// stderr.
func Run(ctx context.Context, c Cmd) (Timed, error) {
	if len(c.Argv) == 0 || c.Limit <= 0 {
		return Timed{}, fmt.Errorf("benchmount.Run: %d arguments, limit %v", len(c.Argv), c.Limit)
	}
	argv, rssFile, err := withGNUTime(c)
	if err != nil {
		return Timed{}, err
	}
	if rssFile != "" {
		defer os.Remove(rssFile)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr tailWriter
	lines := lineCounter{match: c.Match}
	cmd.Stderr = &stderr
	if c.Count {
		cmd.Stdout = &lines
	} else {
		devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return Timed{}, err
		}
		defer devNull.Close()
		cmd.Stdout = devNull
	}
	start := time.Now()
	err = cmd.Run()
	t := Timed{Wall: time.Since(start)}
	lines.flush()
	t.Lines, t.Matched = lines.n, lines.matched
	if rssFile != "" {
		t.MaxRSSKiB = readPeakRSS(rssFile)
	}
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return t, fmt.Errorf("%s: %w after %v", short(c.Argv), ErrTimeout, c.Limit)
	case err != nil:
		return t, fmt.Errorf("%s: %w: %s", short(c.Argv), err, bytes.TrimSpace(stderr.b))
	}
	return t, nil
}

// withGNUTime returns c's argv run under GNU time when c asks for its peak
// RSS and GNU time is there, with the file GNU time writes it to.
func withGNUTime(c Cmd) (argv []string, rssFile string, err error) {
	if !c.PeakRSS {
		return c.Argv, "", nil
	}
	if _, err := os.Stat(gnuTime); err != nil {
		return c.Argv, "", nil
	}
	f, err := os.CreateTemp("", "bench-rss.")
	if err != nil {
		return nil, "", err
	}
	f.Close()
	return append([]string{gnuTime, "-f", "%M", "-o", f.Name()}, c.Argv...), f.Name(), nil
}

// readPeakRSS reads the KiB GNU time wrote, 0 if it wrote none.
func readPeakRSS(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	lines := strings.Fields(string(data))
	if len(lines) == 0 {
		return 0
	}
	n, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// short is argv as a command line, at most a few arguments of it.
func short(argv []string) string {
	if len(argv) > 6 {
		return strings.Join(argv[:6], " ") + fmt.Sprintf(" … (%d arguments)", len(argv)-1)
	}
	return strings.Join(argv, " ")
}

// maxLine bounds the part of a line lineCounter keeps for Match.
const maxLine = 4096

// lineCounter counts the lines written to it, and those match reports.
type lineCounter struct {
	n, matched int
	match      func([]byte) bool
	line       []byte // the current line's start, at most maxLine bytes
}

func (c *lineCounter) Write(p []byte) (int, error) {
	if c.match == nil {
		c.n += bytes.Count(p, []byte{'\n'})
		return len(p), nil
	}
	for rest := p; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			c.keep(rest)
			break
		}
		c.keep(rest[:i])
		c.end()
		rest = rest[i+1:]
	}
	return len(p), nil
}

// keep appends b to the current line, up to maxLine bytes.
func (c *lineCounter) keep(b []byte) {
	c.line = append(c.line, b[:min(len(b), maxLine-len(c.line))]...)
}

// end counts the current line.
func (c *lineCounter) end() {
	c.n++
	if c.match(c.line) {
		c.matched++
	}
	c.line = c.line[:0]
}

// flush counts a last line without its newline.
func (c *lineCounter) flush() {
	if c.match != nil && len(c.line) > 0 {
		c.end()
	}
}

// tailWriter keeps the last errTailBytes written to it.
type tailWriter struct{ b []byte }

func (w *tailWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if len(w.b) > errTailBytes {
		w.b = append(w.b[:0], w.b[len(w.b)-errTailBytes:]...)
	}
	return len(p), nil
}

// FDCount counts the open descriptors of pid, -1 if it cannot.
func FDCount(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}
