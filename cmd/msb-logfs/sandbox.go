package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/urfave/cli/v2"
)

// sandboxArg returns the one SANDBOX argument of c. A name is one
// directory of <home>/sandboxes: one with "/" or a NUL byte, ".", ".." or
// "" is refused before it is joined to any path, so the message never
// names a path outside the home.
func sandboxArg(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", usageError(fmt.Errorf("%s: want exactly one SANDBOX, got %d arguments (`%s list` shows them)", c.Command.Name, c.NArg(), c.App.Name))
	}
	name := c.Args().First()
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return "", usageError(fmt.Errorf("%s: bad sandbox name %q: a name is not empty, \".\" or \"..\" and has no \"/\"", c.Command.Name, name))
	}
	return name, nil
}

// openHome opens the home of c for one pass over its logs.
func openHome(c *cli.Context) (*engine.Home, error) {
	dir, err := homeDir(c)
	if err != nil {
		return nil, err
	}
	home, err := engine.OpenHome(dir)
	if err != nil {
		return nil, err
	}
	home.SetCacheDir("") // one pass over the logs: nothing to re-read
	return home, nil
}

// openSandbox opens the home of c and its one SANDBOX argument; the caller
// closes the home. An unknown sandbox is a usage error (status 2).
func openSandbox(c *cli.Context) (*engine.Sandbox, *engine.Home, error) {
	name, err := sandboxArg(c)
	if err != nil {
		return nil, nil, err
	}
	home, err := openHome(c)
	if err != nil {
		return nil, nil, err
	}
	sb, err := home.Sandbox(name)
	if err != nil {
		err = unknownSandbox(home, name, err)
		home.Close()
		return nil, nil, usageError(err)
	}
	return sb, home, nil
}

// unknownSandbox adds to err, the failure to open sandbox name, the
// nearest names of home and the command that lists them.
func unknownSandbox(home *engine.Home, name string, err error) error {
	if !errors.Is(err, engine.ErrNoSandbox) {
		return err
	}
	names, lerr := home.List()
	if lerr != nil {
		return err
	}
	return fmt.Errorf("%w%s (`msb-logfs list` shows them)", err, didYouMean(nearest(name, names)))
}
