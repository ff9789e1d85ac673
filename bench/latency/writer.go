package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

type written struct {
	lines     int64
	bytes     int64
	rotations int
	start     time.Time
	elapsed   time.Duration
	end       time.Time
}

// write appends cfg.rate lines per second for cfg.duration, rate×duration
// lines in all: every millisecond, the lines due by then, one Exec (one
// write(2)) each.
func write(ctx context.Context, sb *msbwriter.Sandbox, cfg config) (written, error) {
	var w written
	var data, line []byte
	var size int64 // exec.log's size as the writer sees it, to count rotations
	source := sourceFor(cfg.file)
	total := int64(cfg.duration.Seconds() * float64(cfg.rate))
	start := time.Now()
	w.start = start
	for w.lines < total && ctx.Err() == nil {
		due := min(total, int64(time.Since(start).Seconds()*float64(cfg.rate)))
		for w.lines < due {
			seq := w.lines + 1
			now := time.Now()
			data = fmt.Appendf(data[:0], "seq=%d t=%d\n", seq, now.UnixNano())
			c := msbwriter.Chunk{Time: now, Source: source, Data: data, ID: 1, HasID: true}
			line = msbwriter.AppendLine(line[:0], c)
			if err := sb.Exec(c); err != nil {
				w.elapsed = time.Since(start)
				w.end = time.Now()
				return w, err
			}
			n := int64(len(line))
			if size > 0 && size+n > cfg.rotateAt {
				w.rotations++
				size = 0
			}
			size += n
			w.bytes += n
			w.lines = seq
		}
		if w.lines < total {
			time.Sleep(time.Millisecond)
		}
	}
	w.end = time.Now()
	w.elapsed = w.end.Sub(start)
	return w, ctx.Err()
}

// sourceFor returns the chunk source whose lines file shows: stdout for
// merged.follow and stdout.follow, else the view's own (stderr, output,
// system).
func sourceFor(file string) string {
	switch v, _, _ := strings.Cut(file, "."); v {
	case msbwriter.SourceStderr, msbwriter.SourceOutput, msbwriter.SourceSystem:
		return v
	}
	return msbwriter.SourceStdout
}
