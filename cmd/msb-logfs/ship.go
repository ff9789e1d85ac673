package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/ship"
	"github.com/microsandbox/msb-logfs/ship/checkpoint"
	"github.com/microsandbox/msb-logfs/ship/otlp"
	"github.com/microsandbox/msb-logfs/ship/syslog"
	"github.com/urfave/cli/v2"
)

func shipCommand() *cli.Command {
	return &cli.Command{
		Name:      "ship",
		Usage:     "send every sandbox's logs to OpenTelemetry (OTLP/HTTP) or syslog, resuming where it stopped",
		ArgsUsage: "[SANDBOX...]",
		Description: `Sends one record per entry of each sandbox's merged view (or of the named
sandboxes) to --to, and keeps, per sandbox, a checkpoint: the cursor after
the last record the receiver acknowledged. A restart, a kill -9 or a
receiver restart loses nothing; records of a batch not yet acknowledged
may be sent twice, with the same msb.cursor attribute. Without --once it
follows the sandboxes, new ones included, until SIGTERM or Ctrl-C.

Targets: http://HOST:PORT[/PATH] or https://… (OTLP/HTTP protobuf to PATH/v1/logs;
without --to, $OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or $OTEL_EXPORTER_OTLP_ENDPOINT),
syslog+tcp://HOST:PORT or syslog+tls://HOST:PORT (RFC 5424, octet counting;
?max=N sets the longest message, 8192 by default). See docs/ship.md.

Examples:
   msb-logfs ship --to http://localhost:4318                # to an OpenTelemetry Collector
   msb-logfs ship --to http://loki:3100/otlp --once foo     # backfill sandbox foo into Loki
   OTEL_EXPORTER_OTLP_HEADERS='X-Scope-OrgID=team1' msb-logfs ship --to http://loki:3100/otlp
   msb-logfs ship --to syslog+tcp://127.0.0.1:514 --state-dir /var/lib/msb-ship-syslog`,
		Flags: []cli.Flag{
			homeFlag(),
			&cli.StringFlag{Name: "to", Usage: "send to `URL`: http(s)://… (OTLP), syslog+tcp://… or syslog+tls://…"},
			&cli.StringFlag{Name: "state-dir", Usage: "keep the checkpoints in `DIR` (default /var/lib/msb-logfs/ship as root, else $XDG_STATE_HOME/msb-logfs/ship); one per target"},
			&cli.StringFlag{Name: "source", Value: "all", Usage: "comma-separated `SOURCES` to ship: stdout, stderr, output, system, all"},
			&cli.BoolFlag{Name: "once", Usage: "ship what exists now and exit"},
			&cli.IntFlag{Name: "batch-records", Value: ship.DefaultBatchRecords, Usage: "at most `N` records per batch"},
			&cli.IntFlag{Name: "batch-bytes", Value: ship.DefaultBatchBytes, Usage: "close a batch at `BYTES` of bodies"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Second, Usage: "give up one send after `DURATION` (and try again)"},
			&cli.DurationFlag{Name: "retry-max", Value: ship.DefaultBackoff.Max, Usage: "wait at most `DURATION` between two tries of a batch (exponential backoff with jitter from 0.5 s)"},
			&cli.DurationFlag{Name: "stop-timeout", Value: ship.DefaultStopTimeout, Usage: "on SIGTERM, wait up to `DURATION` for the batch in flight to be acknowledged"},
			logFormatFlag(),
			&cli.BoolFlag{Name: "debug", Usage: "log debug lines"},
		},
		Action: runShip,
	}
}

func runShip(c *cli.Context) error {
	if err := setupLogging(c); err != nil {
		return err
	}
	cfg, err := shipConfig(c)
	if err != nil {
		return err
	}
	sender, err := openSender(c)
	if err != nil {
		return usageError(err)
	}
	defer sender.Close()
	cfg.Sender = sender
	home, err := openHome(c)
	if err != nil {
		return err
	}
	defer home.Close()
	cfg.Home = home
	if err := checkNames(c, cfg); err != nil {
		return err
	}
	dir, err := stateDir(c)
	if err != nil {
		return err
	}
	store, err := checkpoint.Open(dir)
	if err != nil {
		return err
	}
	defer store.Close()
	cfg.Store = store
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := ship.New(cfg)
	stopProgress := progress(s, cfg.Once)
	sdNotify("READY=1")
	err = s.Run(ctx)
	sdNotify("STOPPING=1")
	stopProgress()
	s.LogTotals()
	if err == nil && cfg.Once && s.Stats.Failed.Load() > 0 {
		err = cli.Exit(fmt.Sprintf("%d sandboxes were not shipped (see the errors above)", s.Stats.Failed.Load()), 1)
	}
	return err
}

// shipConfig reads the flags that shape the shipping.
func shipConfig(c *cli.Context) (ship.Config, error) {
	q, err := parseQuery(c)
	if err != nil {
		return ship.Config{}, usageError(err)
	}
	cfg := ship.Config{Mask: q.Mask, Once: c.Bool("once"), BatchRecords: c.Int("batch-records"),
		BatchBytes: c.Int("batch-bytes"), StopTimeout: c.Duration("stop-timeout")}
	switch {
	case cfg.BatchRecords < 1 || cfg.BatchRecords > 1<<20:
		return cfg, usageError(fmt.Errorf("--batch-records %d: want 1 to %d", cfg.BatchRecords, 1<<20))
	case cfg.BatchBytes < 1 || cfg.BatchBytes > 64<<20:
		return cfg, usageError(fmt.Errorf("--batch-bytes %d: want 1 to %d", cfg.BatchBytes, 64<<20))
	case c.Duration("timeout") <= 0 || cfg.StopTimeout <= 0:
		return cfg, usageError(errors.New("--timeout and --stop-timeout must be positive"))
	case c.Duration("retry-max") < ship.DefaultBackoff.Min:
		return cfg, usageError(fmt.Errorf("--retry-max %v: want %v or more", c.Duration("retry-max"), ship.DefaultBackoff.Min))
	}
	cfg.Backoff = ship.Backoff{Min: ship.DefaultBackoff.Min, Max: c.Duration("retry-max")}
	for _, name := range c.Args().Slice() {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			return cfg, usageError(fmt.Errorf("bad sandbox name %q", name))
		}
		cfg.Sandboxes = append(cfg.Sandboxes, name)
	}
	return cfg, nil
}

// checkNames refuses a named sandbox that does not exist (with --once; a
// follower waits for it to be made).
func checkNames(c *cli.Context, cfg ship.Config) error {
	if !cfg.Once {
		return nil
	}
	for _, name := range cfg.Sandboxes {
		if _, err := cfg.Home.Sandbox(name); err != nil {
			return usageError(err)
		}
	}
	return nil
}

// openSender returns the sender --to (or the OTLP variables) names.
func openSender(c *cli.Context) (ship.Sender, error) {
	to := c.String("to")
	host, _ := os.Hostname()
	if strings.HasPrefix(to, "syslog+") {
		u, err := url.Parse(to)
		if err != nil {
			return nil, fmt.Errorf("--to: %w", err)
		}
		return syslog.New(syslog.Config{URL: u, Hostname: host, Timeout: c.Duration("timeout")})
	}
	endpoint, headers, err := otlp.Endpoint(to, os.Getenv)
	if err != nil {
		return nil, err
	}
	return otlp.New(otlp.Config{URL: endpoint, Headers: headers, Timeout: c.Duration("timeout"), Hostname: host})
}

// stateDir returns --state-dir, or the default for this user.
func stateDir(c *cli.Context) (string, error) {
	if dir := c.String("state-dir"); dir != "" {
		return dir, nil
	}
	if os.Geteuid() == 0 {
		return "/var/lib/msb-logfs/ship", nil
	}
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "msb-logfs", "ship"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no state directory: %w (set --state-dir)", err)
	}
	return filepath.Join(home, ".local", "state", "msb-logfs", "ship"), nil
}

// progress writes a progress line to a terminal every second of a --once
// run; the returned func stops it and ends the line.
func progress(s *ship.Shipper, once bool) func() {
	if !once || !isTerminal(os.Stderr) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintf(os.Stderr, "\r\x1b[K%s\n", s.Progress())
				return
			case <-t.C:
				fmt.Fprintf(os.Stderr, "\r\x1b[K%s", s.Progress())
			}
		}
	}()
	return func() { close(done); <-finished }
}
