package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func unmountCommand() *cli.Command {
	return &cli.Command{
		Name:      "unmount",
		Usage:     "unmount a msb-logfs mount",
		ArgsUsage: "MOUNTPOINT",
		Description: `Unmounts MOUNTPOINT. If a process still has a file of the mount open (a
tail -f, a shell inside it), the mount is detached instead: it leaves the
tree at once, and the mount process, seeing it gone, ends its blocked
readers with end of file and exits. A stale mount left by a killed mount
process is removed too.

Example:
   msb-logfs unmount /mnt/msb-logs`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError(errors.New("unmount: want exactly one MOUNTPOINT"))
			}
			mnt, err := mountpointArg(c.Args().First(), "")
			if err != nil {
				return usageError(err)
			}
			return unmountPath(mnt)
		},
	}
}

// unmountPath unmounts mnt, detaching it when it is busy.
func unmountPath(mnt string) error {
	if os.Geteuid() != 0 {
		if err := fusermount("-u", mnt); err != nil {
			return fusermount("-u", "-z", mnt)
		}
		return nil
	}
	err := unix.Unmount(mnt, 0)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EBUSY):
		return detach(mnt)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("unmount %s: not a mount point", mnt)
	}
	return fmt.Errorf("unmount %s: %w", mnt, err)
}
