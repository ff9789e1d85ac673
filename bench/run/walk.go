package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/microsandbox/msb-logfs/bench/internal/walk"
)

// walk runs the host-wide walk (package walk) in a scratch directory of
// its own.
func (b *bench) walk(ctx context.Context) error {
	dir := filepath.Join(b.work, "walk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	c := b.cfg
	return walk.Run(ctx, walk.Config{
		Bin: b.bins["msb-logfs"], Loopback: b.bins["loopback"], Dir: dir, Keep: c.dir,
		Walk:  walk.Small{Count: c.walkSandboxes, Exec: 20, Runtime: 5, Kernel: 5, Width: digits(c.walkSandboxes - 1)},
		Scale: walk.Small{Count: c.scaleSandboxes, Exec: c.scaleLines, Runtime: 5, Kernel: 5, Width: digits(c.scaleSandboxes - 1)},
		Stats: c.walkStats, Idle: c.scaleIdle, Limit: c.timeout, NoFile: c.nofile,
		Big: walk.Big{Home: b.home, Name: bigName},
	}, &b.t)
}

// digits is the number of decimal digits of n (at least 1).
func digits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}
