package walk

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// scale measures the scaling corpus through a fresh mount: grep -r ERROR,
// find and du -s, each against the same command over the sandboxes' logs
// directories on disk; then the mount's memory and fds right after, Idle
// later, and at peak.
func (w *walker) scale() {
	s := w.cfg.Scale
	name := fmt.Sprintf("scale %d", s.Count)
	home, names, err := s.Ensure(w.cfg.Keep)
	if err != nil {
		w.t.Fail(name, err)
		return
	}
	logs := filepath.Join(home, "sandboxes")
	if err := warm(logs); err != nil {
		w.t.Fail(name, err)
		return
	}
	part, partCount := w.partGrep(name, home, names), len(names)/partOf
	m, mnt, err := w.mount(home, names[0])
	if err != nil {
		w.t.Fail(name, err)
		return
	}
	defer w.stop(m, "msb-logfs mount of the scaling corpus")
	pid := m.Pid()
	start := benchmount.StatusField(pid, "VmRSS")
	for _, c := range []struct {
		what string
		argv func(root string) []string
	}{
		{"grep -r " + ErrorWord, func(root string) []string { return []string{"grep", "-r", ErrorWord, root} }},
		{"find | wc -l", func(root string) []string { return []string{"find", root} }},
		{"du -s", func(root string) []string { return []string{"du", "-s", root} }},
	} {
		row, lines := w.scaleRow(name+": "+c.what, pid, c.argv(mnt), c.argv(logs))
		if c.what == "grep -r "+ErrorWord {
			row.Ratio = table.Ratios(row.Ratio, table.Ratio(row.Secs, part, fmt.Sprintf("%d of them", partCount)))
		}
		w.t.Add(row)
		w.t.Add(table.Row{Name: "  over the logs on disk (reference)", Secs: w.refSecs, Failed: w.refSecs == 0})
		if c.what == "grep -r "+ErrorWord {
			w.t.Add(table.Row{Name: fmt.Sprintf("  %d of them, fresh mount (reference)", partCount), Secs: part, Failed: part == 0})
		}
		switch c.what {
		case "grep -r " + ErrorWord:
			w.memoryRow(name+": RSS after grep", pid, "VmRSS")
		case "find | wc -l":
			w.perNodeRow(name, pid, start, lines)
		}
	}
	if !sleep(w.ctx, w.cfg.Idle) {
		return
	}
	w.memoryRow(fmt.Sprintf("%s: RSS %v later", name, w.cfg.Idle), pid, "VmRSS")
	w.memoryRow(name+": peak RSS", pid, "VmHWM")
	w.t.Note("%s: %d sandboxes of %d exec, %d runtime and %d kernel lines; the references (\"logs\") run the same command over their logs directories on disk, which hold fewer files than the mount shows; \"%d of them\" is grep -r over the first %d sandboxes' directories through a fresh mount of the same corpus; goals: grep <= %dx that (linear), find <= 2 s, du <= 5 s, RSS <= 128 MiB idle, <= 256 MiB peak",
		name, s.Count, s.Exec, s.Runtime, s.Kernel, partCount, partCount, partOf)
}

// partOf is the fraction of the scaling corpus partGrep reads, 1/partOf:
// the grep over all of it should take at most partOf times as long
// (linear, as issue 17 asks).
const partOf = 5

// partGrep times grep -r ERROR over the first 1/partOf of the corpus's
// sandboxes (names) through a fresh mount of it, in seconds; 0 if it
// failed.
func (w *walker) partGrep(name, home string, names []string) float64 {
	partCount := len(names) / partOf
	if partCount == 0 {
		return 0
	}
	m, mnt, err := w.mount(home, names[0])
	if err != nil {
		w.t.Note("%s: grep over %d sandboxes: %v", name, partCount, err)
		return 0
	}
	defer w.stop(m, "msb-logfs mount of part of the scaling corpus")
	argv := []string{"grep", "-r", ErrorWord}
	for _, n := range names[:partCount] {
		argv = append(argv, filepath.Join(mnt, n))
	}
	t, err := w.run(benchmount.Cmd{Argv: argv, Count: true})
	if err != nil {
		w.t.Note("%s: grep over %d sandboxes FAILED: %v", name, partCount, err)
		return 0
	}
	return t.Seconds()
}

// scaleRow times argv over the mount and ref over the logs on disk, and
// returns the mount's row and the lines argv wrote; the reference's
// seconds are left in refSecs.
func (w *walker) scaleRow(name string, pid int, argv, ref []string) (table.Row, int) {
	w.refSecs = 0
	r, err := w.run(benchmount.Cmd{Argv: ref, Count: true})
	if err != nil {
		w.t.Note("%s: reference FAILED: %v", name, err)
	}
	w.refSecs = r.Seconds()
	c0 := cpu(pid)
	t, err := w.run(benchmount.Cmd{Argv: argv, Count: true})
	if err != nil {
		w.t.Note("%s: FAILED: %v", name, err)
		return table.Row{Name: name, Failed: true}, 0
	}
	w.t.Note("%s: %d lines out (%d over the logs on disk), mount CPU %.2f s", name, t.Lines, r.Lines, cpu(pid)-c0)
	return table.Row{Name: name, Secs: t.Seconds(), Ratio: table.Ratio(t.Seconds(), w.refSecs, "logs")}, t.Lines
}

// perNodeRow adds what the mount holds per file or directory the kernel
// knows once find has listed them all: the growth of its RSS since it
// started (from startKiB) over the nodes find listed.
func (w *walker) perNodeRow(name string, pid int, startKiB int64, nodes int) {
	now := benchmount.StatusField(pid, "VmRSS")
	if nodes <= 0 || startKiB < 0 || now < 0 {
		w.t.Note("%s: no RSS per node (%d nodes, VmRSS %d KiB at start, %d KiB now)", name, nodes, startKiB, now)
		return
	}
	w.t.Add(table.Row{Name: fmt.Sprintf("%s: RSS growth per node (%d nodes)", name, nodes), Bytes: max(0, (now-startKiB)<<10) / int64(nodes)})
}

// memoryRow adds pid's memory field (VmRSS, VmHWM) and fds as a row.
func (w *walker) memoryRow(name string, pid int, field string) {
	w.t.Add(table.Row{Name: fmt.Sprintf("%s (%d fds)", name, benchmount.FDCount(pid)), RSSKiB: benchmount.StatusField(pid, field)})
}

// sleep waits d, false if ctx ends first.
func sleep(ctx interface{ Done() <-chan struct{} }, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
