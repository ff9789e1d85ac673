package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"
)

// logFormatFlag is --log-format of the commands that mount.
func logFormatFlag() cli.Flag {
	return &cli.StringFlag{
		Name:  "log-format",
		Value: "logfmt",
		Usage: "write the log lines on stderr as `FORMAT`: logfmt (key=value, as journald and lnav read it) or json",
	}
}

// setupLogging sends the log lines to stderr in the format of
// --log-format: info level (the lifecycle lines: mounted, unmounted,
// warnings and errors), debug level with --debug. An unknown format is a
// usage error.
func setupLogging(c *cli.Context) error {
	h, err := logHandler(os.Stderr, c.String("log-format"), c.Bool("debug"))
	if err != nil {
		return usageError(err)
	}
	slog.SetDefault(slog.New(h))
	return nil
}

// logHandler returns the slog handler for format ("" is logfmt).
func logHandler(w io.Writer, format string, debug bool) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if debug {
		opts.Level = slog.LevelDebug
	}
	switch format {
	case "", "logfmt", "text":
		return slog.NewTextHandler(w, opts), nil
	case "json":
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("--log-format %q: want logfmt or json", format)
}
