package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
)

// outcome is what one run measured.
type outcome struct {
	w          written
	werr       error
	res        result
	cpu        float64       // mount CPU seconds while writing and catching up
	busy       time.Duration // how long writing and catching up took
	endedEarly bool          // the reader had ended before the unmount
	readerEnd  time.Duration // from SIGINT to the reader's end of file; -1: none within 5 s
	mountRC    int
	mountTook  time.Duration
	readErr    error
	mountLog   string // the mount process's output
	ok         bool
}

var fmtDur = benchmount.FormatDuration

func (o *outcome) p(q float64) time.Duration { return benchmount.Percentile(o.res.latencies, q) }

// print prints the report on stdout.
func (o *outcome) print(cfg config) {
	w, res := o.w, o.res
	fmt.Printf("  lines written     %d in %.2f s: %.0f lines/s achieved (%.1f MB/s of exec.log), %d rotations\n",
		w.lines, w.elapsed.Seconds(), float64(w.lines)/w.elapsed.Seconds(),
		float64(w.bytes)/w.elapsed.Seconds()/1e6, w.rotations)
	if o.werr != nil {
		fmt.Printf("  WRITE ERROR       %v\n", o.werr)
	}
	fmt.Printf("  lines seen        %d (%d distinct, %d other lines)\n", res.seen, res.unique, res.other)
	fmt.Printf("  missing           %d%s\n", res.missing, firstOf(res.firstMissing))
	fmt.Printf("  duplicated        %d\n", res.duplicated)
	fmt.Printf("  out of order      %d\n", res.outOfOrder)
	if len(res.latencies) > 0 {
		fmt.Printf("  latency           p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s)\n",
			fmtDur(o.p(0.50)), fmtDur(o.p(0.90)), fmtDur(o.p(0.99)), fmtDur(o.p(0.999)),
			fmtDur(res.latencies[len(res.latencies)-1]), fmtDur(res.mean))
	}
	if res.missing == 0 {
		fmt.Printf("  caught up         the last line was seen %s after the last write\n", fmtDur(res.lastAt.Sub(w.end)))
	}
	fmt.Printf("  mount CPU         %.2f s while writing and catching up (%s): %.0f%% of one core\n",
		o.cpu, fmtDur(o.busy), 100*o.cpu/o.busy.Seconds())
	if o.readErr != nil {
		fmt.Printf("  READ ERROR        %v\n", o.readErr)
	}
	o.printSeries(cfg.series)
	o.printUnmount()
	if o.ok {
		fmt.Println("  result            OK: every line seen once, in order")
	} else {
		fmt.Println("  result            FAILED")
		if tail := benchmount.LogTail(o.mountLog, 10); tail != "" {
			fmt.Printf("  mount log (last lines):\n%s", tail)
		}
	}
}

// printSeries prints the latency of the lines written in each interval
// every of the run, if asked for.
func (o *outcome) printSeries(every time.Duration) {
	if every <= 0 || len(o.res.series) == 0 {
		return
	}
	fmt.Printf("  latency of the lines written in each %s, by its start:\n", every)
	for i, b := range o.res.series {
		if len(b) == 0 {
			continue
		}
		fmt.Printf("    %8s  %6d lines  p50 %-9s p99 %-9s max %s\n", time.Duration(i)*every, len(b),
			fmtDur(benchmount.Percentile(b, 0.5)), fmtDur(benchmount.Percentile(b, 0.99)), fmtDur(b[len(b)-1]))
	}
}

func (o *outcome) printUnmount() {
	switch {
	case o.endedEarly:
		fmt.Printf("  unmount           (the reader had already ended); mount exited %d after %s\n", o.mountRC, fmtDur(o.mountTook))
	case o.readerEnd >= 0:
		fmt.Printf("  unmount           reader got end of file %s after SIGINT; mount exited %d after %s\n",
			fmtDur(o.readerEnd), o.mountRC, fmtDur(o.mountTook))
	default:
		fmt.Printf("  unmount           READER STILL BLOCKED 5 s after SIGINT; mount exited %d after %s\n",
			o.mountRC, fmtDur(o.mountTook))
	}
}

// writeKV writes the figures as key=value lines to cfg.kv.
func (o *outcome) writeKV(cfg config) error {
	var kv benchmount.KV
	w, res := o.w, o.res
	kv.Add("file", cfg.file)
	kv.Add("rate", cfg.rate)
	kv.Add("duration_s", cfg.duration.Seconds())
	kv.Add("rotate_bytes", cfg.rotateAt)
	kv.Add("written", w.lines)
	kv.Add("achieved_rate", fmt.Sprintf("%.0f", float64(w.lines)/w.elapsed.Seconds()))
	kv.Add("rotations", w.rotations)
	kv.Add("mount_cpu_s", fmt.Sprintf("%.2f", o.cpu))
	kv.Add("mount_cpu_pct", fmt.Sprintf("%.0f", 100*o.cpu/o.busy.Seconds()))
	kv.Add("seen", res.seen)
	kv.Add("missing", res.missing)
	kv.Add("duplicated", res.duplicated)
	kv.Add("out_of_order", res.outOfOrder)
	if len(res.latencies) > 0 {
		kv.Add("p50_s", o.p(0.50).Seconds())
		kv.Add("p90_s", o.p(0.90).Seconds())
		kv.Add("p99_s", o.p(0.99).Seconds())
		kv.Add("max_s", res.latencies[len(res.latencies)-1].Seconds())
	}
	kv.Add("reader_eof_after_sigint_s", o.readerEnd.Seconds())
	kv.Add("mount_exit", o.mountRC)
	kv.Add("ok", o.ok)
	return kv.WriteFile(cfg.kv)
}

func firstOf(seqs []int64) string {
	if len(seqs) == 0 {
		return ""
	}
	s := make([]string, len(seqs))
	for i, q := range seqs {
		s[i] = strconv.FormatInt(q, 10)
	}
	return " (first: seq " + strings.Join(s, ", ") + ")"
}
