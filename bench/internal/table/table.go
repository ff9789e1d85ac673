// Package table is the report of `make bench`: rows of figures (time,
// bytes, ratio to a reference, peak RSS) and notes, printed as a text
// table and appended to a results file.
//
// What is measured, and how, is not here: the driver (bench/run) and the
// packages it calls fill the table.
package table

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Row is one line of the table. A zero field prints as "-".
type Row struct {
	Name   string
	Secs   float64 // wall time, or a per-item time (the name says so)
	Bytes  int64   // bytes the command read or wrote
	Ratio  string  // to its reference, e.g. "1.63x loopback" (see Ratio)
	RSSKiB int64   // peak (or current: the name says so) resident memory
	Failed bool    // the measurement failed; a note says why
}

// Table collects the rows and notes of one run.
type Table struct {
	Header []string // lines above the table: revision, machine, corpus
	rows   []Row
	notes  []string
	failed int
}

// Add appends a row.
func (t *Table) Add(r Row) {
	t.rows = append(t.rows, r)
	if r.Failed {
		t.failed++
	}
}

// Fail appends a failed row named name and a note saying why.
func (t *Table) Fail(name string, err error) {
	t.Add(Row{Name: name, Failed: true})
	t.Note("%s: FAILED: %v", name, err)
}

// Note appends a note printed below the table.
func (t *Table) Note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// Failed is the number of failed rows.
func (t *Table) Failed() int { return t.failed }

// Rows is the rows added so far.
func (t *Table) Rows() []Row { return t.rows }

// Notes is the notes added so far.
func (t *Table) Notes() []string { return t.notes }

// Ratio formats x/ref as "1.63x name", "" if either is not positive.
func Ratio(x, ref float64, name string) string {
	if x <= 0 || ref <= 0 {
		return ""
	}
	r := x / ref
	if r >= 10 {
		return fmt.Sprintf("%.1fx %s", r, name)
	}
	return fmt.Sprintf("%.2fx %s", r, name)
}

// Ratios joins the non-empty ratios with ", ".
func Ratios(r ...string) string {
	var keep []string
	for _, s := range r {
		if s != "" {
			keep = append(keep, s)
		}
	}
	return strings.Join(keep, ", ")
}

const rowFormat = "%-46s %10s %10s %9s %-32s %10s\n"

// Write prints the header, the table and the notes to w.
func (t *Table) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nmsb-logfs benchmark, %s\n", time.Now().UTC().Format(time.RFC3339))
	for _, h := range t.Header {
		fmt.Fprintf(&b, "  %s\n", h)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, rowFormat, "benchmark", "time", "bytes", "MB/s", "ratio", "RSS")
	fmt.Fprintf(&b, rowFormat, strings.Repeat("-", 46), strings.Repeat("-", 10), strings.Repeat("-", 10),
		strings.Repeat("-", 9), strings.Repeat("-", 32), strings.Repeat("-", 10))
	for _, r := range t.rows {
		fmt.Fprintf(&b, rowFormat, r.Name, secs(r), bytesText(r.Bytes), rate(r), dash(r.Ratio), rss(r.RSSKiB))
	}
	if len(t.notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range t.notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Append writes the table to the end of the file path.
func (t *Table) Append(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("results file: %w", err)
	}
	if err := t.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("results file %s: %w", path, err)
	}
	return f.Close()
}

func secs(r Row) string {
	switch {
	case r.Failed:
		return "FAILED"
	case r.Secs <= 0:
		return "-"
	case r.Secs < 0.001:
		return fmt.Sprintf("%.1f us", r.Secs*1e6)
	case r.Secs < 1:
		return fmt.Sprintf("%.1f ms", r.Secs*1e3)
	}
	return fmt.Sprintf("%.2f s", r.Secs)
}

func bytesText(b int64) string {
	switch {
	case b <= 0:
		return "-"
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// rate is MB/s (10^6 bytes) of a row with both a time and bytes.
func rate(r Row) string {
	if r.Failed || r.Secs <= 0 || r.Bytes <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(r.Bytes)/r.Secs/1e6)
}

func rss(kib int64) string {
	if kib <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
