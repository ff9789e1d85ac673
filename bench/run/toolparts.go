package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// latency runs bench/latency: append → visible latency of merged.follow
// through a mount of its own, with exec.log rotating every 256 KiB; every
// line must arrive once and in order.
func (b *bench) latency(ctx context.Context) error {
	rate := b.cfg.latencyRate
	k, err := b.tool(ctx, "latency", "-rate", strconv.Itoa(rate), "-duration", b.cfg.latencyDuration.String(),
		"-rotate", "256KiB", "-file", "merged.follow")
	if k["p50_s"] == "" {
		return fmt.Errorf("follow latency (%d lines/s): no figures: %v", rate, err)
	}
	b.t.Add(table.Row{Name: fmt.Sprintf("follow latency p50 (%d lines/s)", rate), Secs: k.num("p50_s")})
	b.t.Add(table.Row{Name: "follow latency p90", Secs: k.num("p90_s")})
	b.t.Add(table.Row{Name: "follow latency p99", Secs: k.num("p99_s")})
	b.t.Add(table.Row{Name: "follow latency max", Secs: k.num("max_s")})
	b.t.Note("follow latency: %s lines written (%s lines/s achieved, %s rotations), %s seen, mount CPU %s%% of a core; missing %s, duplicated %s, out of order %s",
		k["written"], k["achieved_rate"], k["rotations"], k["seen"], k["mount_cpu_pct"], k["missing"], k["duplicated"], k["out_of_order"])
	for _, v := range []string{"missing", "duplicated", "out_of_order"} {
		if k[v] != "0" {
			b.t.Fail("follow latency: "+v+" lines", fmt.Errorf("%s (must be 0)", k[v]))
		}
	}
	return err
}

// idle runs bench/idle: idle `cat X.follow` readers on a mount of their
// own: the mount's CPU over an idle window, its inotify instances, threads
// and memory, then how fast one append wakes them and SIGTERM ends them.
func (b *bench) idle(ctx context.Context) error {
	n := b.cfg.idleReaders
	k, err := b.tool(ctx, "idle", "-readers", strconv.Itoa(n), "-measure", b.cfg.idleMeasure.String())
	if k["idle_cpu_s"] == "" {
		return fmt.Errorf("idle: %d follow readers: no figures: %v", n, err)
	}
	b.t.Add(table.Row{Name: fmt.Sprintf("idle: mount CPU, %d readers, %.0fs", n, k.num("window_s")),
		Secs: k.num("idle_cpu_s"), Ratio: k["idle_cpu_pct"] + "% core"})
	b.t.Add(table.Row{Name: fmt.Sprintf("idle: mount RSS with %d readers", n), RSSKiB: k.whole("rss_kib")})
	wake := table.Row{Name: "idle: wake-up of one more reader", Secs: k.num("extra_wake_s")}
	wake.Failed = wake.Secs < 0
	b.t.Add(wake)
	b.t.Add(table.Row{Name: fmt.Sprintf("idle: wake-up of the last of %d cats", n), Secs: k.num("last_woken_s")})
	b.t.Add(table.Row{Name: "idle: SIGTERM to the last cat's exit", Secs: k.num("last_exit_s")})
	b.t.Note("idle readers: %s blocked cats; mount process: %s inotify instance(s) with %s watches, %s threads, %s context switches in the idle window, VmHWM %s KiB; %s cats woken by one append; %s exited after SIGTERM, %s of them non-zero",
		k["readers"], k["inotify"], k["watches"], k["threads"], k["context_switches"], k["hwm_kib"], k["woken"], k["exited"], k["exited_nonzero"])
	if k["inotify"] != "1" {
		b.t.Fail("idle: inotify instances", fmt.Errorf("%s in the mount process (must be 1)", k["inotify"]))
	}
	if k["exited_nonzero"] != "0" {
		b.t.Fail("idle: cats exiting non-zero after SIGTERM", fmt.Errorf("%s (must be 0)", k["exited_nonzero"]))
	}
	return err
}

// many runs bench/many: grep -r over many sandboxes under RLIMIT_NOFILE
// 1024 against grep -r over their logs directories and the mount's fds and
// RSS after; the render cache with --cache-size 16MiB over every view of a
// 64 MiB sandbox; mount ready, ls and ls -l of many sandboxes.
func (b *bench) many(ctx context.Context) error {
	n, tree := b.cfg.manySandboxes, b.cfg.manyTree
	k, err := b.tool(ctx, "many", "-sandboxes", strconv.Itoa(n), "-tree", strconv.Itoa(tree))
	if k["grep_mount_s"] == "" {
		return fmt.Errorf("many: grep -r over %d sandboxes: no figures: %v", n, err)
	}
	b.t.Add(table.Row{Name: fmt.Sprintf("grep -r logs dirs of %d (reference)", n), Secs: k.num("grep_ref_s")})
	b.t.Add(table.Row{Name: fmt.Sprintf("many: grep -r over %d sandboxes", n), Secs: k.num("grep_mount_s"),
		Ratio: table.Ratio(k.num("grep_mount_s"), k.num("grep_ref_s"), "grep of the logs"), RSSKiB: k.whole("grep_hwm_kib")})
	b.t.Add(table.Row{Name: "many: mount RSS 15 s after the grep", RSSKiB: k.whole("grep_rss_kib_idle")})
	b.t.Add(table.Row{Name: "many: cache on disk, --cache-size 16MiB", Bytes: k.whole("cache_most_bytes")})
	b.t.Add(table.Row{Name: fmt.Sprintf("many: %d sandboxes, mount ready", tree), Secs: k.num("tree_ready_s")})
	b.t.Add(table.Row{Name: fmt.Sprintf("many: ls of %d sandboxes", tree), Secs: k.num("tree_ls_s")})
	b.t.Add(table.Row{Name: fmt.Sprintf("many: ls -l of %d sandboxes", tree), Secs: k.num("tree_lsl_s")})
	b.t.Note("many sandboxes: mount fds right after grep -r %s, 15 s later %s (RLIMIT_NOFILE 1024); every view of the 64 MiB sandbox is %s bytes",
		k["grep_fds_after"], k["grep_fds_idle"], k["cache_views_bytes"])
	return err
}

// sessions runs bench/sessions over a sandbox of -size with -sessions
// sessions: ls sessions/ warm (goal: under 50 ms), and cat of a small
// session's stdout against cat of the sandbox's.
func (b *bench) sessions(ctx context.Context) error {
	home, err := b.sessionsCorpus()
	if err != nil {
		return err
	}
	k, err := b.tool(ctx, "sessions", "-home", home, "-name", bigName)
	if k["ls_warm_p50_s"] == "" {
		return fmt.Errorf("sessions: ls sessions/ (%d): no figures: %v", b.cfg.sessions, err)
	}
	b.t.Add(table.Row{Name: fmt.Sprintf("sessions: first ls sessions/ (%s)", k["sessions"]), Secs: k.num("ls_first_s")})
	b.t.Add(table.Row{Name: "sessions: ls sessions/ (warm, median)", Secs: k.num("ls_warm_p50_s")})
	b.t.Add(table.Row{Name: "mount: cat stdout (warm, reference)", Secs: k.num("cat_sandbox_s"), Bytes: k.whole("cat_sandbox_bytes")})
	b.t.Add(table.Row{Name: fmt.Sprintf("sessions: cat sessions/%s/stdout (warm)", k["small_session"]), Secs: k.num("cat_session_s"),
		Bytes: k.whole("small_bytes"), Ratio: table.Ratio(k.num("cat_sandbox_s"), k.num("cat_session_s"), "faster")})
	if k.num("ls_warm_p50_s") >= 0.05 {
		b.t.Note("sessions: warm ls sessions/ took %.1f ms (goal: under 50 ms)", k.num("ls_warm_p50_s")*1e3)
	}
	return err
}
