package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/urfave/cli/v2"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "print a sandbox's logs, optionally following them",
		ArgsUsage: "SANDBOX",
		Description: `Prints the entries of the chosen sources merged by time. By default the
raw bytes the program wrote; --timestamps gives "<TIME> <SOURCE> <line>"
lines (like the merged file of the mount), --json one object per entry with
its cursor (like merged.jsonl).

Examples:
   msb-logfs logs foo                                   # stdout, stderr, output
   msb-logfs logs -f --source all --timestamps foo      # everything, following
   msb-logfs logs --since 5m --tail 20 foo
   msb-logfs logs --json --cursor-file foo.cursor foo >> foo.jsonl   # incremental backup`,
		Flags: []cli.Flag{
			homeFlag(),
			&cli.StringFlag{Name: "source", Value: "stdout,stderr,output", Usage: "comma-separated `SOURCES`: stdout, stderr, output, system, all"},
			&cli.StringFlag{Name: "since", Usage: "entries at or after `TIME` (RFC 3339, or 30s, 5m, 2h, 1d ago)"},
			&cli.StringFlag{Name: "until", Usage: "entries at or before `TIME` (same forms as --since)"},
			&cli.IntFlag{Name: "tail", Value: -1, Usage: "only the last `N` entries (then follow, with -f)"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing entries as they are written"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "prefix each line with its time and source"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per entry, with its cursor"},
			&cli.StringFlag{Name: "after-cursor", Usage: "start after `CURSOR`"},
			&cli.BoolFlag{Name: "show-cursor", Usage: "print the cursor after the last entry (-- cursor: …)"},
			&cli.StringFlag{Name: "cursor-file", Usage: "resume after the cursor in `FILE` if it has one, and keep it updated"},
		},
		Action: runLogs,
	}
}

// logsRun is one invocation of the logs command.
type logsRun struct {
	sb       *engine.Sandbox
	query    engine.Query
	format   engine.Format
	tail     int
	follow   bool
	show     bool
	cursorTo *cursorFile // nil without --cursor-file
	out      *bufio.Writer
	render   engine.Renderer
}

func runLogs(c *cli.Context) error {
	run, home, err := newLogsRun(c)
	if err != nil {
		return err
	}
	defer home.Close()
	defer run.cursorTo.close()
	// A reader that goes away (| head) ends the run with status 0, as
	// for msb logs: the write fails with EPIPE instead of killing us.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run.run(ctx); err != nil && !errors.Is(err, syscall.EPIPE) {
		return err
	}
	return nil
}

func newLogsRun(c *cli.Context) (*logsRun, *engine.Home, error) {
	if c.NArg() != 1 {
		return nil, nil, usageError(errors.New("logs: want exactly one SANDBOX"))
	}
	q, err := parseQuery(c)
	if err != nil {
		return nil, nil, usageError(err)
	}
	dir, err := homeDir(c)
	if err != nil {
		return nil, nil, err
	}
	home, err := engine.OpenHome(dir)
	if err != nil {
		return nil, nil, err
	}
	home.SetCacheDir("") // one pass over the logs: nothing to re-read
	sb, err := home.Sandbox(c.Args().First())
	if err != nil {
		home.Close()
		return nil, nil, usageError(err)
	}
	run := &logsRun{sb: sb, query: q, tail: c.Int("tail"), follow: c.Bool("follow"),
		show: c.Bool("show-cursor"), out: bufio.NewWriterSize(os.Stdout, 256<<10)}
	if path := c.String("cursor-file"); path != "" {
		if run.cursorTo, err = openCursorFile(path); err != nil {
			home.Close()
			return nil, nil, usageError(err)
		}
	}
	switch {
	case c.Bool("json"):
		run.format = engine.FormatJSON
	case c.Bool("timestamps"):
		run.format = engine.FormatText
	}
	if err := run.position(c.String("after-cursor")); err != nil {
		run.cursorTo.close()
		home.Close()
		return nil, nil, err
	}
	return run, home, nil
}

// parseQuery reads --source, --since and --until.
func parseQuery(c *cli.Context) (engine.Query, error) {
	var q engine.Query
	for _, name := range strings.Split(c.String("source"), ",") {
		name = strings.TrimSpace(name)
		if name == "all" {
			q.Mask = engine.MaskAll
			continue
		}
		s, ok := engine.ParseSource(name)
		if !ok {
			return q, fmt.Errorf("unknown source %q: want stdout, stderr, output, system or all", name)
		}
		q.Mask |= 1 << s
	}
	now := time.Now()
	for _, f := range []struct {
		name string
		dst  *engine.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if v := c.String(f.name); v != "" {
			t, err := parseWhen(v, now)
			if err != nil {
				return q, fmt.Errorf("--%s: %w", f.name, err)
			}
			*f.dst = engine.TimeOf(t)
		}
	}
	return q, nil
}

// position sets where the run starts: --after-cursor, else the cursor file.
func (r *logsRun) position(after string) error {
	if after == "" && r.cursorTo != nil {
		var err error
		if after, err = r.cursorTo.read(); err != nil {
			return usageError(err)
		}
	}
	if after == "" {
		return nil
	}
	c, err := engine.ParseCursor(after)
	if err == nil {
		r.query.From, err = r.sb.StateAt(c)
	}
	if err != nil {
		return usageError(fmt.Errorf("sandbox %s: %w", r.sb.Name(), err))
	}
	return nil
}

func (r *logsRun) run(ctx context.Context) error {
	sc := r.sb.NewScanner(r.query)
	defer sc.Close()
	if err := r.snapshot(sc); err != nil {
		return err
	}
	if err := r.flush(sc); err != nil {
		return err
	}
	var err error
	if r.follow {
		err = sc.Follow(ctx, r.print, func() error { return r.flush(sc) })
		if errors.Is(err, engine.ErrRemoved) {
			err = nil
		}
	}
	if err == nil && r.show {
		fmt.Fprintf(r.out, "-- cursor: %s\n", sc.LastState().Cursor)
	}
	if ferr := r.flush(sc); err == nil {
		err = ferr
	}
	return err
}

// snapshot prints what exists now, or its last --tail entries: the pass
// keeps the position before each of the last N entries, not their
// renderings (one entry may render to hundreds of MB), and then reads them
// again from the first of those positions.
func (r *logsRun) snapshot(sc *engine.Scanner) error {
	if r.tail < 0 {
		return sc.Next(r.print)
	}
	ring := tailRing{max: r.tail}
	before := sc.State()
	err := sc.Next(func(_ *engine.Entry, after *engine.State) error {
		ring.add(before)
		before = *after
		return nil
	})
	if err != nil || ring.len() == 0 {
		return err
	}
	return sc.Replay(ring.oldest(), ring.len(), r.print)
}

func (r *logsRun) print(e *engine.Entry, after *engine.State) error {
	return r.render.Write(r.out, r.format, e, after)
}

// flush writes buffered output and then the cursor file, so that the file
// never points past what was written.
func (r *logsRun) flush(sc *engine.Scanner) error {
	if err := r.out.Flush(); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if r.cursorTo == nil {
		return nil
	}
	return r.cursorTo.write(sc.LastState().Cursor.String())
}

// tailRing keeps the last max states added. It grows with what is added,
// so a huge --tail costs only what the log holds.
type tailRing struct {
	max   int
	items []engine.State
	next  int // where the next state goes once the ring is full
}

func (t *tailRing) add(st engine.State) {
	switch {
	case t.max <= 0:
	case len(t.items) < t.max:
		t.items = append(t.items, st)
	default:
		t.items[t.next] = st
		t.next = (t.next + 1) % t.max
	}
}

func (t *tailRing) len() int { return len(t.items) }

// oldest returns the first state of the ring; it must not be empty.
func (t *tailRing) oldest() engine.State {
	if len(t.items) < t.max {
		return t.items[0]
	}
	return t.items[t.next]
}
