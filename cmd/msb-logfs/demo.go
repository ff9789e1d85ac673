package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/microsandbox/msb-logfs/engine"
	logfs "github.com/microsandbox/msb-logfs/fs"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// demoRotateAt is the demo's exec.log rotation size: about every two
// minutes at the default rate, every dozen seconds at --rate 200.
const demoRotateAt = 256 << 10

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:      "demo",
		Usage:     "mount a temporary home with a live sandbox, to try the filesystem",
		ArgsUsage: "[MOUNTPOINT]",
		Description: `Creates a temporary home with one sandbox, demo, whose logs are written
live (stdout, stderr, PTY output, lifecycle markers, runtime.log and
kernel.log, with exec.log rotating every 256 KiB), mounts it at MOUNTPOINT
(default: a temporary directory), prints commands to try, and on Ctrl-C
unmounts and removes everything it made.

Example:
   msb-logfs demo /tmp/msb-demo`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "rate", Value: msbwriter.DefaultLiveRate, Usage: "`N` log writes per second"},
			&cli.BoolFlag{Name: "debug", Usage: "log every FUSE request"},
			logFormatFlag(),
		},
		Action: runDemo,
	}
}

func runDemo(c *cli.Context) error {
	if err := setupLogging(c); err != nil {
		return err
	}
	if c.NArg() > 1 {
		return usageError(errors.New("demo: at most one MOUNTPOINT"))
	}
	tmp, err := os.MkdirTemp("", "msb-logfs-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(tmp)
	mnt, err := mountpointArg(c.Args().First(), filepath.Join(tmp, "mnt"))
	if err != nil {
		return usageError(err)
	}
	home := filepath.Join(tmp, "home")
	w, err := msbwriter.Create(home, "demo", msbwriter.Options{RotateAt: demoRotateAt})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = msbwriter.RunLive(ctx, w, c.Int("rate"))
	}()
	defer wg.Wait()
	defer cancel()
	return demoMount(mountConfig{home: home, mnt: mnt, cacheDir: engine.DefaultCacheDir(), opts: logfs.Options{DirectMount: os.Geteuid() == 0, Debug: c.Bool("debug")}})
}

// demoMount mounts, prints what to try, and serves until Ctrl-C.
func demoMount(cfg mountConfig) error {
	m, err := startMount(cfg)
	if err != nil {
		return err
	}
	fmt.Println(m.banner(true))
	fmt.Printf(demoHelp, cfg.mnt)
	m.serve()
	return nil
}

const demoHelp = `
Try, in another terminal:
   M=%s
   ls -l $M/demo                          # snapshots and cursor; the follow files are not listed
   tail -f $M/demo/merged.follow          # every source, live, with timestamps
   cat $M/demo/stdout.follow              # the program's own bytes, live
   grep -r FAILED $M                      # walks the tree, never blocks
   ls -v $M/demo/sessions                 # one directory per exec session
   S=$(ls -v $M/demo/sessions | tail -n1); cat $M/demo/sessions/$S/info; tail -f $M/demo/sessions/$S/merged.follow
                                          # the newest session: its times and counts, then its lines
   cat $M/demo/cursor                     # where the logs end now
   exec 3<>$M/demo/seek; printf '%%s\n' "$(cat $M/demo/cursor)" >&3; sleep 2; cat <&3
                                          # everything after a saved cursor, as JSON Lines
Press Ctrl-C here to unmount and remove the demo.
`
