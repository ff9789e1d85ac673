package walk

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// treeRun is what one tree's walk took: grep -r, the same grep -r again,
// cp -r, and the CPU time its serving process used for each.
type treeRun struct {
	grep1, grep2, cp  benchmount.Timed
	cpu1, cpu2, cpuCp float64
	copyBytes         int64
	err               error
}

// trees walks the mount, then the mount's own output copied to disk (by
// the mount's cp -r) served by the loopback, then that copy on disk, each
// with grep -r, grep -r again and cp -r, and adds their rows. It returns
// the copy, which the per-sandbox rows read too.
func (w *walker) trees(home string, names []string) (string, error) {
	m, mnt, err := w.mount(home, names[0])
	if err != nil {
		return "", err
	}
	defer w.stop(m, "msb-logfs mount of the walk")
	copyDir := filepath.Join(w.cfg.Dir, "copy")
	mr := w.walkTree(mnt, m.Pid(), copyDir, len(names))
	if mr.err != nil {
		return "", fmt.Errorf("through the mount: %w", mr.err)
	}
	walked := time.Now()
	fds, rss := benchmount.FDCount(m.Pid()), benchmount.StatusField(m.Pid(), "VmRSS")
	lr := w.loopbackTree(copyDir, names[0], len(names))
	pr := w.walkTree(copyDir, 0, filepath.Join(w.cfg.Dir, "copy-plain"), len(names))
	os.RemoveAll(filepath.Join(w.cfg.Dir, "copy-plain"))
	later := time.Since(walked).Round(time.Second)
	w.treeRows(mr, lr, pr, len(names), countFiles(copyDir))
	w.t.Add(table.Row{Name: fmt.Sprintf("walk: mount RSS right after (%d fds)", fds), RSSKiB: rss})
	w.t.Add(table.Row{Name: fmt.Sprintf("walk: mount RSS %v after (%d fds)", later, benchmount.FDCount(m.Pid())),
		RSSKiB: benchmount.StatusField(m.Pid(), "VmRSS")})
	w.t.Add(table.Row{Name: "walk: mount peak RSS (VmHWM)", RSSKiB: benchmount.StatusField(m.Pid(), "VmHWM")})
	w.t.Note("walk: the mount runs under RLIMIT_NOFILE %d; issue 8's bounds after the walk: at most 64 fds, 128 MiB idle, 256 MiB peak", w.cfg.NoFile)
	return copyDir, nil
}

// loopbackTree walks the copy through a fresh loopback mount of it.
func (w *walker) loopbackTree(copyDir, ready string, n int) treeRun {
	lb, lbMnt, err := w.loopback(copyDir, ready)
	if err != nil {
		return treeRun{err: err}
	}
	defer w.stop(lb, "loopback")
	dst := filepath.Join(w.cfg.Dir, "copy-loopback")
	defer os.RemoveAll(dst)
	return w.walkTree(lbMnt, lb.Pid(), dst, n)
}

// walkTree times grep -r Word, the same again, and cp -r root copyTo; pid
// is the process serving root (0: none). Each grep must find the word in
// the merged of each of the n sandboxes.
func (w *walker) walkTree(root string, pid int, copyTo string, n int) treeRun {
	var r treeRun
	grep := benchmount.Cmd{Argv: []string{"grep", "-r", Word, root}, Count: true, Match: inMerged(root)}
	c0 := cpu(pid)
	if r.grep1, r.err = w.run(grep); r.err != nil {
		return r
	}
	c1 := cpu(pid)
	if r.grep2, r.err = w.run(grep); r.err != nil {
		return r
	}
	c2 := cpu(pid)
	for _, g := range []benchmount.Timed{r.grep1, r.grep2} {
		if g.Matched != n {
			r.err = fmt.Errorf("grep -r %s %s: found in the merged of %d sandboxes, want %d (%d lines)", Word, root, g.Matched, n, g.Lines)
			return r
		}
	}
	if r.cp, r.err = w.run(benchmount.Cmd{Argv: []string{"cp", "-r", root, copyTo}}); r.err != nil {
		return r
	}
	r.cpu1, r.cpu2, r.cpuCp = c1-c0, c2-c1, cpu(pid)-c2
	r.copyBytes, r.err = sizeUnder(copyTo)
	return r
}

// inMerged reports whether a line of grep -r over root is a match in a
// sandbox's merged (root/NAME/merged:...).
func inMerged(root string) func([]byte) bool {
	prefix := []byte(root + "/")
	return func(line []byte) bool {
		rest, ok := bytes.CutPrefix(line, prefix)
		if !ok {
			return false
		}
		path, _, ok := bytes.Cut(rest, []byte(":"))
		name, file, _ := bytes.Cut(path, []byte("/"))
		return ok && len(name) > 0 && string(file) == "merged"
	}
}

// treeRows adds the rows of the three walks: the mount's with its ratios
// to the loopback and to the plain copy, then the references.
func (w *walker) treeRows(m, lb, plain treeRun, n, files int) {
	for _, r := range []struct {
		what string
		run  *treeRun
	}{{"loopback of the copy", &lb}, {"plain copy", &plain}} {
		if r.run.err != nil {
			w.t.Note("walk: %s: FAILED: %v", r.what, r.run.err)
		}
	}
	w.t.Note("walk: %d sandboxes, %d files in the mount; the copy is the mount's own output (its cp -r), served by the loopback and read plain", n, files)
	type fig struct {
		what    string
		pick    func(treeRun) benchmount.Timed
		pickCPU func(treeRun) float64
	}
	for _, f := range []fig{
		{"grep -r, first run", func(r treeRun) benchmount.Timed { return r.grep1 }, func(r treeRun) float64 { return r.cpu1 }},
		{"grep -r again, nothing changed", func(r treeRun) benchmount.Timed { return r.grep2 }, func(r treeRun) float64 { return r.cpu2 }},
		{"cp -r", func(r treeRun) benchmount.Timed { return r.cp }, func(r treeRun) float64 { return r.cpuCp }},
	} {
		ms, ls, ps := f.pick(m).Seconds(), secsOf(lb, f.pick), secsOf(plain, f.pick)
		w.t.Add(table.Row{Name: "walk: " + f.what, Secs: ms, Bytes: m.copyBytes,
			Ratio: table.Ratios(table.Ratio(ms, ls, "loopback"), table.Ratio(ms, ps, "plain"))})
		w.t.Add(table.Row{Name: "  loopback of the copy (reference)", Secs: ls, Bytes: lb.copyBytes, Failed: lb.err != nil})
		w.t.Add(table.Row{Name: "  plain copy (reference)", Secs: ps, Bytes: plain.copyBytes, Failed: plain.err != nil})
		w.t.Note("walk: %s: mount CPU %.2f s, loopback CPU %.2f s", f.what, f.pickCPU(m), f.pickCPU(lb))
	}
}

// secsOf is the seconds of a figure of r, 0 if r failed.
func secsOf(r treeRun, pick func(treeRun) benchmount.Timed) float64 {
	if r.err != nil {
		return 0
	}
	return pick(r).Seconds()
}

// sizeUnder sums the sizes of the regular files under dir.
func sizeUnder(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	return total, err
}

// countFiles counts the regular files under dir, -1 if it cannot.
func countFiles(dir string) int {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return -1
	}
	return n
}
