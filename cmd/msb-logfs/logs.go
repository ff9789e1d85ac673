package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"regexp"
	"regexp/syntax"
	"strconv"
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
its cursor (like merged.jsonl). Flags may come before or after SANDBOX.

On a terminal (--color auto, unless $NO_COLOR is set) stderr lines are red
and system lines dim; --color-by-id gives each session id its own colour.

Examples:
   msb-logfs logs foo                                   # stdout, stderr, output
   msb-logfs logs foo -ft --source all                  # everything, following
   msb-logfs logs foo --since 5m -n 20
   msb-logfs logs foo --since yesterday --until "2026-05-01 10:00:01"
   msb-logfs logs foo --since 2026-05-01 --grep 'ERROR|panic'
   msb-logfs logs foo -f --show-id --color-by-id        # tell sessions apart
   msb-logfs logs foo --id 7 -f                         # what session 7 prints
   msb-logfs logs foo --id 3,7 --show-id --grep error   # two sessions, tagged
   msb-logfs logs foo --color always | less -R
   msb-logfs logs --json --cursor-file foo.cursor foo >> foo.jsonl   # incremental backup`,
		Flags: []cli.Flag{
			homeFlag(),
			&cli.StringFlag{Name: "source", Value: "stdout,stderr,output", Usage: "comma-separated `SOURCES`: stdout, stderr, output, system, all"},
			&cli.StringFlag{Name: "since", Usage: "entries at or after `TIME`: RFC 3339, 2026-05-01 (local midnight), \"2026-05-01 10:00:01\" (local), today, yesterday, now, or 30s, 5m, 2h, 1d, 1w ago"},
			&cli.StringFlag{Name: "until", Usage: "entries at or before `TIME` (same forms as --since)"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "only the last `N` entries, or all (then follow, with -f)"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing entries as they are written"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "prefix each line with its time and source"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per entry, with its cursor (not with -t)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "journalctl's names of the formats: `FORMAT` json (--json), short (--timestamps) or cat (the default)"},
			&cli.StringSliceFlag{Name: "id", Usage: "only the entries of session `ID` (repeat it or give a comma list: --id 3,7)"},
			&cli.StringFlag{Name: "grep", Usage: "only entries whose body matches `REGEX` (Go syntax: (?i)error for any case)"},
			&cli.StringFlag{Name: "color", Value: "auto", Usage: "colour the lines `WHEN`: auto (on a terminal, without $NO_COLOR), always or never"},
			&cli.BoolFlag{Name: "no-color", Usage: "no colour (--color never)"},
			&cli.BoolFlag{Name: "show-id", Usage: "prefix each line of an entry that has a session id with [id:N]"},
			&cli.BoolFlag{Name: "color-by-id", Usage: "colour each session id's lines its own colour"},
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
	grep     *regexp.Regexp // nil without --grep
	ids      []uint64       // --id: the engine's Query.IDs
	style    style
	deco     lineDecorator // writes to out when the style adds something
	prefix   []byte        // the [id:N] prefix's buffer
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
	name, err := sandboxArg(c)
	if err != nil {
		return nil, nil, err
	}
	run := &logsRun{tail: -1, follow: c.Bool("follow"), show: c.Bool("show-cursor"), out: bufio.NewWriterSize(os.Stdout, 256<<10)}
	if err := run.options(c); err != nil {
		return nil, nil, usageError(err)
	}
	if run.query, err = parseQuery(c); err != nil {
		return nil, nil, usageError(err)
	}
	run.query.IDs = run.ids
	home, err := openHome(c)
	if err != nil {
		return nil, nil, err
	}
	if run.sb, err = home.Sandbox(name); err != nil {
		err = unknownSandbox(home, name, err)
		home.Close()
		return nil, nil, usageError(err)
	}
	if path := c.String("cursor-file"); path != "" {
		if run.cursorTo, err = openCursorFile(path); err != nil {
			home.Close()
			return nil, nil, usageError(err)
		}
	}
	if err := run.position(c.String("after-cursor")); err != nil {
		run.cursorTo.close()
		home.Close()
		return nil, nil, err
	}
	return run, home, nil
}

// options reads the flags that shape the output: --tail, the format,
// --grep and the decoration.
func (r *logsRun) options(c *cli.Context) error {
	tail, err := parseTail(c.String("tail"))
	if err != nil {
		return err
	}
	r.tail = tail
	if r.format, err = outputFormat(c); err != nil {
		return err
	}
	if expr := c.String("grep"); c.IsSet("grep") {
		re, err := regexp.Compile(expr)
		var serr *syntax.Error
		if errors.As(err, &serr) {
			return fmt.Errorf("--grep %q: %s", expr, serr.Code)
		}
		if err != nil {
			return fmt.Errorf("--grep %q: %w", expr, err)
		}
		r.grep = re
	}
	ids, err := parseIDs(c.StringSlice("id"))
	if err != nil {
		return err
	}
	r.ids = ids
	color, err := colorMode(c.String("color"), c.Bool("no-color"), os.Stdout)
	if err != nil {
		return err
	}
	if r.format != engine.FormatJSON { // JSON carries the id; never colour
		r.style = style{color: color, byID: c.Bool("color-by-id"), showID: c.Bool("show-id")}
	}
	r.deco.w = r.out
	return nil
}

// parseTail reads --tail: a count of entries, or all (-1).
func parseTail(s string) (int, error) {
	if s == "all" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err == nil && n >= 0:
		return n, nil
	case err == nil || strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("--tail %s: want a count of 0 or more, or all", s)
	}
	return 0, fmt.Errorf("--tail %q: want a count of entries, or all", s)
}

// outputFormat reads --json, --timestamps and --output (journalctl's -o
// names): at most one format.
func outputFormat(c *cli.Context) (engine.Format, error) {
	json, text := c.Bool("json"), c.Bool("timestamps")
	if c.IsSet("output") {
		if json || text {
			return 0, errors.New("--output and --json or --timestamps: choose one")
		}
		switch o := c.String("output"); o {
		case "json":
			json = true
		case "short":
			text = true
		case "cat":
		default:
			return 0, fmt.Errorf("--output %q: want json (the same as --json), short (--timestamps) or cat", o)
		}
	}
	switch {
	case json && text:
		return 0, errors.New("--json and --timestamps are two formats: choose one")
	case json:
		return engine.FormatJSON, nil
	case text:
		return engine.FormatText, nil
	}
	return engine.FormatRaw, nil
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
	err := sc.Next(func(e *engine.Entry, after *engine.State) error {
		if r.matches(e) {
			ring.add(before)
		}
		before = *after
		return nil
	})
	if err != nil || ring.len() == 0 {
		return err
	}
	// The ring holds the positions before the last N matching entries:
	// the first N matching entries from the oldest are those.
	left := ring.len()
	err = sc.Replay(ring.oldest(), math.MaxInt, func(e *engine.Entry, after *engine.State) error {
		if !r.matches(e) {
			return nil
		}
		if err := r.write(e, after); err != nil {
			return err
		}
		if left--; left == 0 {
			return errTailDone
		}
		return nil
	})
	if errors.Is(err, errTailDone) {
		return nil
	}
	return err
}

// errTailDone ends the replay of --tail once its last entry is printed.
var errTailDone = errors.New("tail printed")

// matches reports whether e passes --grep.
func (r *logsRun) matches(e *engine.Entry) bool {
	return r.grep == nil || r.grep.Match(e.Body)
}

// print prints e if it passes --grep.
func (r *logsRun) print(e *engine.Entry, after *engine.State) error {
	if !r.matches(e) {
		return nil
	}
	return r.write(e, after)
}

// write renders e, decorated as the style asks.
func (r *logsRun) write(e *engine.Entry, after *engine.State) error {
	if r.style.none() {
		return r.render.Write(r.out, r.format, e, after)
	}
	var sgr string
	r.prefix, sgr = r.style.of(e, r.prefix)
	r.deco.begin(r.prefix, sgr)
	if err := r.render.Write(&r.deco, r.format, e, after); err != nil {
		return err
	}
	return r.deco.end()
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
