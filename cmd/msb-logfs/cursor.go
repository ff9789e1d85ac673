package main

import (
	"errors"
	"fmt"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/urfave/cli/v2"
)

func cursorCommand() *cli.Command {
	return &cli.Command{
		Name:      "cursor",
		Usage:     "print the cursor at the current end of a sandbox's logs",
		ArgsUsage: "SANDBOX",
		Description: `The cursor is byte-compatible with microsandbox's LogCursor: pass it to
"msb-logfs logs --after-cursor", write it to the mount's seek file, or hand
it to the microsandbox SDKs.

Example:
   c=$(msb-logfs cursor foo); …; msb-logfs logs --after-cursor "$c" foo`,
		Flags: []cli.Flag{homeFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError(errors.New("cursor: want exactly one SANDBOX"))
			}
			dir, err := homeDir(c)
			if err != nil {
				return err
			}
			home, err := engine.OpenHome(dir)
			if err != nil {
				return err
			}
			home.SetCacheDir("") // nothing is rendered twice
			defer home.Close()
			sb, err := home.Sandbox(c.Args().First())
			if err != nil {
				return usageError(err)
			}
			cur, err := sb.EndCursor()
			if err != nil {
				return err
			}
			fmt.Println(cur)
			return nil
		},
	}
}
