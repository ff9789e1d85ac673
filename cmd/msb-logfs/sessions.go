package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/microsandbox/msb-logfs/cursorfs"
	"github.com/microsandbox/msb-logfs/engine"
)

func sessionsCommand() *cli.Command {
	return &cli.Command{
		Name:      "sessions",
		Usage:     "list the exec sessions of a sandbox",
		ArgsUsage: "SANDBOX",
		Description: `Prints one line per session id found in the sandbox's exec.log chain, by
id: its first and last entry times (UTC), the sources it wrote to, its
count of entries and of bytes. --json prints instead one JSON object per
line, the same as the mount's sessions/<id>/info files, with the cursor of
the session's last entry. "msb-logfs logs SANDBOX --id N" prints a session.

Examples:
   msb-logfs sessions foo
   msb-logfs sessions foo --json | jq -r 'select(.entries > 100) | .id'
   msb-logfs logs foo --id "$(msb-logfs sessions foo --json | jq -s '.[-1].id')"`,
		Flags: []cli.Flag{
			homeFlag(),
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per session (id, first, last, sources, entries, bytes, cursor)"},
		},
		Action: runSessions,
	}
}

func runSessions(c *cli.Context) error {
	sb, home, err := openSandbox(c)
	if err != nil {
		return err
	}
	defer home.Close()
	name := sb.Name()
	list, err := sb.Sessions()
	if err != nil {
		return fmt.Errorf("sessions of %s: %w", name, err)
	}
	out := bufio.NewWriter(os.Stdout)
	if c.Bool("json") {
		var b []byte
		for _, si := range list {
			if si, err = sb.Session(si.ID); err != nil { // with its cursor
				return fmt.Errorf("sessions of %s: %w", name, err)
			}
			b = cursorfs.AppendSessionJSON(b[:0], si)
			if _, err := out.Write(b); err != nil {
				return fmt.Errorf("output: %w", err)
			}
		}
	} else {
		writeSessionTable(out, list)
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

// writeSessionTable writes the sessions as columns aligned by spaces,
// numbers to the right, under a header line; times with milliseconds,
// as the text views show them.
func writeSessionTable(w io.Writer, list []engine.SessionInfo) {
	rows := [][]string{{"ID", "FIRST", "LAST", "SOURCES", "ENTRIES", "BYTES"}}
	for _, si := range list {
		rows = append(rows, []string{
			strconv.FormatUint(si.ID, 10),
			engine.FormatTime(si.First),
			engine.FormatTime(si.Last),
			strings.Join(cursorfs.SessionSources(si.Sources), ","),
			strconv.FormatInt(si.Entries, 10),
			strconv.FormatInt(si.Bytes, 10),
		})
	}
	writeColumns(w, rows, map[int]bool{0: true, 4: true, 5: true}) // numbers to the right
}
