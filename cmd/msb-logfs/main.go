// Package main is the msb-logfs command. It shows microsandbox sandbox logs
// as a read-only FUSE filesystem (mount), and reads them directly where FUSE
// is not available (logs, cursor).
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/urfave/cli/v2"
)

// exitUsage is the exit status for bad input: an unknown sandbox, a bad
// time, a bad cursor.
const exitUsage = 2

func main() {
	app := &cli.App{
		Name:  "msb-logfs",
		Usage: "read microsandbox sandbox logs as files, or directly",
		Description: `Sandbox logs live in <home>/sandboxes/<name>/logs (home: --home, else
$MSB_HOME, else ~/.microsandbox).

Examples:
   msb-logfs mount --daemon /mnt/msb-logs && tail -f /mnt/msb-logs/foo/merged.follow
   msb-logfs logs -f --source all --timestamps foo
   msb-logfs list
   msb-logfs cursor foo
   msb-logfs sessions foo && msb-logfs logs foo --id 7
   mount -t fuse.msb-logfs ~/.microsandbox /mnt/msb-logs -o allow_other   # as fstab does`,
		Commands: []*cli.Command{
			logsCommand(),
			cursorCommand(),
			sessionsCommand(),
			listCommand(),
			shipCommand(),
			mountCommand(),
			unmountCommand(),
			demoCommand(),
			completionCommand(),
			manCommand(),
			versionCommand(),
		},
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
	}
	setVersion(app)
	parseOnce(app)
	args, err := fstabArgs(app, os.Args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "msb-logfs:", err)
		os.Exit(exitUsage)
	}
	err = checkCommand(app, args)
	if err == nil {
		args, err = commandLine(app, args)
	}
	if err == nil {
		err = app.Run(args)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "msb-logfs:", err)
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

// homeFlag is --home, shared by every command that reads a home.
func homeFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "home",
		Usage:   "microsandbox home `DIR` (default: $MSB_HOME, else ~/.microsandbox)",
		EnvVars: []string{"MSB_HOME"},
	}
}

// homeDir returns the home to read, once checkHome has found it.
func homeDir(c *cli.Context) (string, error) {
	dir := c.String("home")
	if dir == "" {
		user, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no --home and no $HOME: %w", err)
		}
		dir = user + "/.microsandbox"
	}
	return dir, checkHome(dir)
}

// checkHome refuses a home that is not a directory, with exit status 2:
// a mistyped --home must be named as the problem, not read as a home
// without sandboxes. Every command that reads a home calls it (through
// homeDir) before it makes anything, such as a mountpoint.
func checkHome(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageError(fmt.Errorf("home %s does not exist (set it with --home or $MSB_HOME)", dir))
	case err != nil:
		return usageError(fmt.Errorf("home: %w", err))
	case !fi.IsDir():
		return usageError(fmt.Errorf("home %s is not a directory", dir))
	}
	return nil
}

// usageError makes err exit with status 2.
func usageError(err error) error {
	return cli.Exit(err.Error(), exitUsage)
}
