package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/microsandbox/msb-logfs/engine"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:    "list",
		Aliases: []string{"ls"},
		Usage:   "list the sandboxes, with their log size, last write, sessions and skipped lines",
		Description: `Prints one line per sandbox of the home, by name: the bytes of its log
files on disk (exec.log and its rotations, runtime.log, kernel.log), the
time of the last write to any of them (UTC), its count of exec sessions,
and the lines of its logs skipped as bad input (not JSON, a repeated or
unknown key value, a bad time, longer than 16 MiB; empty lines are not
counted). The last two read its logs. -q prints the names alone, reading
nothing. --format json prints one JSON object per line instead: name,
log_bytes, last_write (RFC 3339, null without logs), sessions,
skipped_lines.

Examples:
   msb-logfs list
   msb-logfs ls -q | xargs -n1 msb-logfs cursor
   msb-logfs list --format json | jq -r 'select(.log_bytes > 1e9) | .name'`,
		Flags: []cli.Flag{
			homeFlag(),
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print the names only"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "print as `FORMAT`: table or json (one object per line)"},
		},
		Action: runList,
	}
}

// sandboxSummary is one line of list.
type sandboxSummary struct {
	Name      string     `json:"name"`
	LogBytes  int64      `json:"log_bytes"`
	LastWrite *time.Time `json:"last_write"`
	Sessions  int        `json:"sessions"`
	Skipped   int        `json:"skipped_lines"`
}

func runList(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError(fmt.Errorf("list: no arguments expected, got %d", c.NArg()))
	}
	format := c.String("format")
	if format != "table" && format != "json" {
		return usageError(fmt.Errorf("--format %q: want table or json", format))
	}
	home, err := openHome(c)
	if err != nil {
		return err
	}
	defer home.Close()
	warnNoSandboxesDir(home)
	names, err := home.List()
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	if c.Bool("quiet") {
		for _, n := range names {
			fmt.Fprintln(out, n)
		}
		return flushOutput(out)
	}
	var rows []sandboxSummary
	for _, n := range names {
		s, err := summarize(home, n)
		if err != nil {
			return err
		}
		rows = append(rows, s)
	}
	if format == "json" {
		err = writeSummaryJSON(out, rows)
	} else {
		writeSummaryTable(out, rows)
	}
	if err != nil {
		return err
	}
	return flushOutput(out)
}

// warnNoSandboxesDir says on stderr that home has no sandboxes directory.
func warnNoSandboxesDir(home *engine.Home) {
	if fi, err := os.Stat(home.SandboxesDir()); err != nil || !fi.IsDir() {
		fmt.Fprintf(os.Stderr, "msb-logfs: no sandboxes directory %s\n", home.SandboxesDir())
	}
}

func flushOutput(out *bufio.Writer) error {
	if err := out.Flush(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

// summarize reads the sizes and times of sandbox name's log files, and
// counts its sessions. A sandbox removed meanwhile is listed empty.
func summarize(home *engine.Home, name string) (sandboxSummary, error) {
	s := sandboxSummary{Name: name}
	logs := filepath.Join(home.SandboxesDir(), name, "logs")
	files := []string{engine.ExecLogName, engine.RuntimeLogName, engine.KernelLogName}
	for i := 1; i < engine.ChainLen; i++ {
		files = append(files, engine.ExecLogName+"."+strconv.Itoa(i))
	}
	for _, f := range files {
		fi, err := os.Lstat(filepath.Join(logs, f))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		s.LogBytes += fi.Size()
		if t := fi.ModTime().UTC(); s.LastWrite == nil || t.After(*s.LastWrite) {
			s.LastWrite = &t
		}
	}
	sb, err := home.Sandbox(name)
	if err != nil {
		return s, nil // gone since the listing
	}
	sessions, err := sb.Sessions()
	if err != nil {
		return s, fmt.Errorf("sessions of %s: %w", name, err)
	}
	s.Sessions = len(sessions)
	st, err := sb.Stat(engine.ViewMerged)
	if err != nil {
		return s, fmt.Errorf("logs of %s: %w", name, err)
	}
	s.Skipped = st.Skipped.Malformed + st.Skipped.TooLong
	return s, nil
}

func writeSummaryJSON(w io.Writer, rows []sandboxSummary) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("output: %w", err)
		}
	}
	return nil
}

// writeSummaryTable writes the sandboxes as aligned columns under a header.
func writeSummaryTable(w io.Writer, rows []sandboxSummary) {
	table := [][]string{{"NAME", "LOG SIZE", "LAST WRITE", "SESSIONS", "SKIPPED"}}
	for _, r := range rows {
		last := "-"
		if r.LastWrite != nil {
			last = r.LastWrite.Format("2006-01-02 15:04:05")
		}
		table = append(table, []string{r.Name, humanBytes(r.LogBytes), last, strconv.Itoa(r.Sessions), strconv.Itoa(r.Skipped)})
	}
	writeColumns(w, table, map[int]bool{1: true, 3: true, 4: true})
}

// writeColumns writes rows as columns two spaces apart, those in right
// aligned to the right.
func writeColumns(w io.Writer, rows [][]string, right map[int]bool) {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			width[i] = max(width[i], len(cell))
		}
	}
	for _, r := range rows {
		var line []byte
		for i, cell := range r {
			pad := strings.Repeat(" ", width[i]-len(cell))
			if right[i] {
				line = append(append(line, pad...), cell...)
			} else {
				line = append(append(line, cell...), pad...)
			}
			if i < len(r)-1 {
				line = append(line, "  "...)
			}
		}
		fmt.Fprintf(w, "%s\n", line)
	}
}

// humanBytes is n in B, KiB, MiB, GiB or TiB, with one decimal above B.
func humanBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= 1024
		if v < 1024 || unit == "TiB" {
			return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
		}
	}
	return "" // not reached
}
