package main

import (
	"fmt"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
)

// figures is what one run measured.
type figures struct {
	readers      int           // cats started
	started      time.Duration // to start them
	blocked      int           // of them blocked in read before the window
	settled      time.Duration // until then
	setupCPU     float64       // mount CPU seconds for the opens
	window       time.Duration // the idle window
	idleCPU      float64       // mount CPU seconds in it
	switches     int64         // context switches in it
	inotify      int           // inotify instances of the mount process
	watches      int           // their watches
	threads      int64         // of the mount process
	rss, hwm     int64         // KiB, VmRSS and VmHWM
	blockedAfter int           // cats blocked after the window
	alive        int           // cats running after the window
	extraWake    time.Duration // append to the extra reader's read; -1: none
	woken        int           // cats that read after the append
	lastWoken    time.Duration // append to the last of them
	wakeCPU      float64       // mount CPU seconds for the wake-up
	exited0      int           // cats that exited 0 after SIGTERM
	exitedOther  int           // cats that exited otherwise
	stuck        int           // cats still running 5 s after SIGTERM
	firstExit    time.Duration // SIGTERM to the first cat's exit
	halfExit     time.Duration // to the median one's
	lastExit     time.Duration // to the last one's
	extraEOF     bool          // the extra reader got end of file
	mountRC      int
	mountTook    time.Duration
	ok           bool
}

var fmtDur = benchmount.FormatDuration

// passed reports whether every check passed.
func (f *figures) passed() bool {
	n := f.readers
	return f.inotify == 1 && f.blocked == n && f.blockedAfter == n && f.alive == n &&
		f.extraWake >= 0 && f.extraWake <= time.Second && f.woken == n &&
		f.stuck == 0 && f.mountRC == 0 && f.extraEOF
}

// print prints the report on stdout, with the tails of the cats' errors
// (errPath) and, on failure, of the mount's log.
func (f *figures) print(errPath, mountLog string) {
	n := f.readers
	fmt.Printf("  readers started   %d in %s; all blocked in read: %d/%d after %s (mount CPU %.2f s for the opens)\n",
		n, fmtDur(f.started), f.blocked, n, fmtDur(f.settled), f.setupCPU)
	fmt.Printf("  idle window       %s: mount CPU %.2f s = %.2f%% of one core; %d context switches (%.1f/s)\n",
		fmtDur(f.window), f.idleCPU, 100*f.idleCPU/f.window.Seconds(), f.switches, float64(f.switches)/f.window.Seconds())
	fmt.Printf("  inotify           %d instance(s), %d watches\n", f.inotify, f.watches)
	fmt.Printf("  threads           %d\n", f.threads)
	fmt.Printf("  memory            VmRSS %s, VmHWM %s\n", fmtKiB(f.rss), fmtKiB(f.hwm))
	fmt.Printf("  after the window  %d/%d readers alive, %d blocked\n", f.alive, n, f.blockedAfter)
	f.printWake()
	f.printTerm()
	if tail := benchmount.LogTail(errPath, 5); tail != "" {
		fmt.Printf("  cat errors (last lines):\n%s", tail)
	}
	if f.ok {
		fmt.Println("  result            OK")
	} else {
		fmt.Println("  result            FAILED")
		if tail := benchmount.LogTail(mountLog, 10); tail != "" {
			fmt.Printf("  mount log (last lines):\n%s", tail)
		}
	}
}

func (f *figures) printWake() {
	if f.extraWake >= 0 {
		fmt.Printf("  wake-up           extra reader (raw fd, merged.follow) saw its line after %s\n", fmtDur(f.extraWake))
	} else {
		fmt.Printf("  wake-up           EXTRA READER DID NOT SEE ITS LINE within 5 s\n")
	}
	fmt.Printf("  wake-up           %d/%d cats read the new lines within 2 s (last after %s; /proc polled); mount CPU %.2f s\n",
		f.woken, f.readers, fmtDur(f.lastWoken), f.wakeCPU)
}

func (f *figures) printTerm() {
	fmt.Printf("  SIGTERM           %d/%d cats exited within 5 s (exit 0: %d, other: %d): first %s, half %s, last %s after SIGTERM\n",
		f.exited0+f.exitedOther, f.readers, f.exited0, f.exitedOther, fmtDur(f.firstExit), fmtDur(f.halfExit), fmtDur(f.lastExit))
	fmt.Printf("                    extra reader got end of file: %v\n", f.extraEOF)
	if f.exitedOther > 0 {
		fmt.Printf("  NOTE              %d cats exited non-zero after SIGTERM instead of ending at end of file (their errors below)\n", f.exitedOther)
	}
	fmt.Printf("                    mount exited %d after %s\n", f.mountRC, fmtDur(f.mountTook))
}

// writeKV writes the figures as key=value lines to path.
func (f *figures) writeKV(path string) error {
	var kv benchmount.KV
	kv.Add("readers", f.readers)
	kv.Add("blocked", f.blocked)
	kv.Add("settle_s", f.settled.Seconds())
	kv.Add("setup_cpu_s", f.setupCPU)
	kv.Add("window_s", f.window.Seconds())
	kv.Add("idle_cpu_s", f.idleCPU)
	kv.Add("idle_cpu_pct", fmt.Sprintf("%.3f", 100*f.idleCPU/f.window.Seconds()))
	kv.Add("context_switches", f.switches)
	kv.Add("inotify", f.inotify)
	kv.Add("watches", f.watches)
	kv.Add("threads", f.threads)
	kv.Add("rss_kib", f.rss)
	kv.Add("hwm_kib", f.hwm)
	kv.Add("extra_wake_s", f.extraWake.Seconds())
	kv.Add("woken", f.woken)
	kv.Add("last_woken_s", f.lastWoken.Seconds())
	kv.Add("wake_cpu_s", f.wakeCPU)
	kv.Add("exited", f.exited0+f.exitedOther)
	kv.Add("exited_nonzero", f.exitedOther)
	kv.Add("last_exit_s", f.lastExit.Seconds())
	kv.Add("mount_exit", f.mountRC)
	kv.Add("ok", f.ok)
	return kv.WriteFile(path)
}

func fmtKiB(k int64) string {
	if k < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(k)/1024)
}
