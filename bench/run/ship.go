package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// The goals of issue 18's figures.
const (
	shipGoalRecordsPerSec = 100_000
	shipGoalMBPerSec      = 100
	shipGoalRSSKiB        = 64 << 10
	shipRepeat            = 3 // runs of ship --once into the sink; the fastest is reported
)

// ship runs bench/ship: `ship --once` of the big sandbox into a decoding
// OTLP sink against `logs --json --source all` of it, the same into a real
// OpenTelemetry Collector, and ship's RSS and descriptors following
// -many-sandboxes small sandboxes. Each of the three is reported on its
// own, so that one failing still leaves the others' rows.
func (b *bench) ship(ctx context.Context) error {
	otelcol, err := b.otelcol(ctx)
	if err != nil {
		b.t.Note("ship: no OpenTelemetry Collector, so no Collector figure: %v", err)
	}
	k, err := b.tool(ctx, "ship", "-home", b.home, "-sandbox", bigName, "-otelcol", otelcol,
		"-sandboxes", strconv.Itoa(b.cfg.manySandboxes), "-repeat", strconv.Itoa(shipRepeat))
	if b.shipRows(k, err) {
		return nil // err is in the failed rows' notes
	}
	return err
}

// shipRows adds the rows of bench/ship's figures k, a failed row for each
// step without figures (err says why), and notes for the goals missed. It
// reports whether it added a failed row.
func (b *bench) shipRows(k kv, err error) (failed bool) {
	fail := func(step string) {
		b.t.Fail(step, fmt.Errorf("no figures: %v", err))
		failed = true
	}
	if k["once_s"] == "" {
		fail("ship --once into a decoding sink")
	} else {
		b.shipOnceRows(k)
	}
	switch {
	case k["collector"] == "skipped":
	case k["collector_s"] == "":
		fail("ship --once into the Collector")
	default:
		b.t.Add(table.Row{Name: "ship --once into the Collector", Secs: k.num("collector_s"), Bytes: k.whole("once_log_bytes"),
			Ratio: table.Ratio(k.num("collector_s"), k.num("once_s"), "sink"), RSSKiB: k.whole("collector_hwm_kib")})
	}
	if k["many_rss_kib_following"] == "" {
		fail("ship following many sandboxes")
	} else {
		b.shipManyRows(k)
	}
	return failed
}

// shipOnceRows adds the reference, `ship --once` into the sink (MB/s of
// log files against the goal's), and its time per record (records/s
// against the goal's).
func (b *bench) shipOnceRows(k kv) {
	secs, ref, size := k.num("once_s"), k.num("once_ref_logs_json_s"), k.whole("once_log_bytes")
	mbps, records, perRecord := 0.0, k.num("once_records_per_s"), 0.0
	if secs > 0 {
		mbps = float64(size) / 1e6 / secs
	}
	if records > 0 {
		perRecord = 1 / records
	}
	b.t.Add(table.Row{Name: "logs --json --source all (reference)", Secs: ref, Bytes: size})
	b.t.Add(table.Row{Name: "ship --once into a decoding sink", Secs: secs, Bytes: size, RSSKiB: k.whole("once_hwm_kib"),
		Ratio: table.Ratios(table.Ratio(secs, ref, "logs --json"), table.Ratio(mbps, shipGoalMBPerSec, "goal's"))})
	b.t.Add(table.Row{Name: "ship --once: per record", Secs: perRecord,
		Ratio: table.Ratio(records, shipGoalRecordsPerSec, "goal's speed")})
	b.t.Note("ship --once: %s records, %.0f records/s (goal ≥ %d), %.1f MB/s of log files (goal ≥ %d), %s descriptors at most; fastest of %d",
		k["once_records"], records, shipGoalRecordsPerSec, mbps, shipGoalMBPerSec, k["once_max_fds"], shipRepeat)
	var missed []string
	if records < shipGoalRecordsPerSec {
		missed = append(missed, "records/s")
	}
	if mbps < shipGoalMBPerSec {
		missed = append(missed, "MB/s")
	}
	if len(missed) > 0 {
		b.t.Note("ship --once: below the %s goal (met only with the machine's cores to itself: compare the load average)", strings.Join(missed, " and "))
	}
}

// shipManyRows adds ship's RSS and descriptors once it has shipped every
// one of many small sandboxes and follows them.
func (b *bench) shipManyRows(k kv) {
	rss, fds, n := k.whole("many_rss_kib_following"), k.whole("many_fds_following"), k.whole("many_sandboxes")
	b.t.Add(table.Row{Name: fmt.Sprintf("ship following %d sandboxes: RSS", n), RSSKiB: rss,
		Ratio: table.Ratios(table.Ratio(float64(rss), shipGoalRSSKiB, "64 MiB goal"), k["many_fds_following"]+" fds")})
	b.t.Note("ship following %d sandboxes: all shipped after %s s; %d descriptors then (%s at most), peak RSS %s KiB",
		n, k["many_shipped_s"], fds, k["many_max_fds"], k["many_hwm_kib"])
	if rss > shipGoalRSSKiB {
		b.t.Note("ship following %d sandboxes: RSS %.1f MiB, above the 64 MiB goal", n, float64(rss)/1024)
	}
	if n > 0 && fds >= n {
		b.t.Note("ship following %d sandboxes: %d descriptors, one or more per sandbox known (goal: one set per sandbox being read)", n, fds)
	}
}

// otelcol is the OpenTelemetry Collector binary of the ship part: -otelcol,
// or what test/otelcol/build.sh builds (once; it caches the binary).
func (b *bench) otelcol(ctx context.Context) (string, error) {
	path := b.cfg.otelcol
	if path == "" {
		ctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "test/otelcol/build.sh")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("bash test/otelcol/build.sh (run from the module's root): %w", err)
		}
		path = strings.TrimSpace(string(out))
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("the Collector binary: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("the Collector binary %s is not an executable file", path)
	}
	return path, nil
}
