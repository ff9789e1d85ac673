package main

import (
	"fmt"

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

Examples:
   c=$(msb-logfs cursor foo); …; msb-logfs logs --after-cursor "$c" foo
   msb-logfs cursor foo --home /var/lib/microsandbox    # flags go anywhere`,
		Flags: []cli.Flag{homeFlag()},
		Action: func(c *cli.Context) error {
			sb, home, err := openSandbox(c)
			if err != nil {
				return err
			}
			defer home.Close()
			cur, err := sb.EndCursor()
			if err != nil {
				return err
			}
			fmt.Println(cur)
			return nil
		},
	}
}
