package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/microsandbox/msb-logfs/engine"
	"golang.org/x/sys/unix"
)

// What logs adds to the lines it prints on request (--show-id, colour).
// Colour is one SGR sequence that covers a whole line, prefix included, and
// is reset before the line's newline, so every line stands alone for less
// -R, grep and a terminal that scrolls:
//   - stderr: red; system: dim; stdout and output: the terminal's default;
//   - --color-by-id: an entry with a session id takes that id's colour of
//     idColors (the same id, the same colour, in every run), bold when it
//     is stderr; an entry without one keeps the colours above.
const (
	sgrReset  = "\x1b[0m"
	sgrStderr = "\x1b[31m"
	sgrSystem = "\x1b[2m"
)

// idColors are the --color-by-id colours: no red, which means stderr.
var idColors = [...]string{"32", "33", "34", "35", "36", "92", "93", "94", "95", "96"}

// style is the decoration a run asked for.
type style struct {
	color  bool // colour the lines
	byID   bool // colour by session id
	showID bool // prefix "[id:N] "
}

// none reports whether the style adds nothing: the lines are written as
// rendered, without the decorator.
func (s style) none() bool { return !s.color && !s.showID }

// of returns the prefix and the SGR sequence ("" for none) of e's lines.
func (s style) of(e *engine.Entry, prefix []byte) ([]byte, string) {
	prefix = prefix[:0]
	if s.showID && e.HasID {
		prefix = fmt.Appendf(prefix, "[id:%d] ", e.ID)
	}
	if !s.color {
		return prefix, ""
	}
	switch {
	case s.byID && e.HasID:
		sgr := "\x1b[" + idColors[e.ID%uint64(len(idColors))]
		if e.Source == engine.SourceStderr {
			sgr += ";1"
		}
		return prefix, sgr + "m"
	case e.Source == engine.SourceStderr:
		return prefix, sgrStderr
	case e.Source == engine.SourceSystem:
		return prefix, sgrSystem
	}
	return prefix, ""
}

// colorMode decides whether logs colours its output: --no-color and
// --color never say no, --color always says yes; auto (the default) says
// yes when stdout is a terminal, $NO_COLOR is empty and $TERM is not dumb.
func colorMode(mode string, noColor bool, stdout *os.File) (bool, error) {
	switch mode {
	case "always":
		return !noColor, nil
	case "never":
		return false, nil
	case "auto", "":
		return !noColor && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && isTerminal(stdout), nil
	}
	return false, fmt.Errorf("--color %s: want auto, always or never", strconv.Quote(mode))
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// lineDecorator writes entries to w with a prefix at the start of each
// output line and a colour around each line's text. An entry that
// continues a line another entry began gets its colour but no prefix.
type lineDecorator struct {
	w       io.Writer
	prefix  []byte // of the current entry
	sgr     string // of the current entry; "" for none
	midLine bool   // the last byte written was not a newline
	colored bool   // sgr was written and not reset yet
}

// begin starts an entry with the given prefix and colour.
func (d *lineDecorator) begin(prefix []byte, sgr string) {
	d.prefix, d.sgr = prefix, sgr
}

// Write writes p, a piece of the current entry's rendering.
func (d *lineDecorator) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if err := d.startText(); err != nil {
			return 0, err
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			_, err := d.w.Write(p)
			return n, err
		}
		if _, err := d.w.Write(p[:i]); err != nil {
			return 0, err
		}
		if err := d.reset(); err != nil {
			return 0, err
		}
		if _, err := io.WriteString(d.w, "\n"); err != nil {
			return 0, err
		}
		d.midLine = false
		p = p[i+1:]
	}
	return n, nil
}

// startText writes what comes before text: the colour, then the prefix
// at a line's start, so the colour covers the prefix too.
func (d *lineDecorator) startText() error {
	if d.sgr != "" && !d.colored {
		d.colored = true
		if _, err := io.WriteString(d.w, d.sgr); err != nil {
			return err
		}
	}
	if d.midLine {
		return nil
	}
	d.midLine = true
	_, err := d.w.Write(d.prefix)
	return err
}

// end ends the current entry: its colour stops even in mid-line.
func (d *lineDecorator) end() error { return d.reset() }

func (d *lineDecorator) reset() error {
	if !d.colored {
		return nil
	}
	d.colored = false
	_, err := io.WriteString(d.w, sgrReset)
	return err
}
