package walk

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// side is one tree the per-sandbox rows read: the mount, the loopback of
// the copy, or the plain copy (pid 0).
type side struct {
	root string
	pid  int
}

// sandboxRows measures, on a fresh mount and a fresh loopback of the copy,
// what touching one cold small sandbox costs: stat of merged of the first
// Stats sandboxes, then cat of merged of the next Stats (none touched
// before on these mounts); and whether mmap of a snapshot works.
func (w *walker) sandboxRows(home string, names []string, copyDir string) {
	m, mnt, err := w.mount(home, names[0])
	if err != nil {
		w.t.Fail("walk: stat and cat of cold sandboxes", err)
		return
	}
	defer w.stop(m, "msb-logfs mount of the cold rows")
	lb, lbMnt, err := w.loopback(copyDir, names[0])
	if err != nil {
		w.t.Fail("walk: stat and cat of cold sandboxes (loopback)", err)
		return
	}
	defer w.stop(lb, "loopback")
	sides := []side{{mnt, m.Pid()}, {lbMnt, lb.Pid()}, {copyDir, 0}}
	n := w.cfg.Stats
	w.coldStat(sides, names[:n])
	rest := names[n:]
	if len(rest) > n {
		rest = rest[:n]
	}
	w.coldCat(sides, rest)
	w.mmapRow(filepath.Join(mnt, names[0], "merged"))
}

// coldStat times one stat(1) of merged of each of names on each side, and
// takes the serving process's CPU time per stat.
func (w *walker) coldStat(sides []side, names []string) {
	var wall, perCPU [3]float64
	for i, s := range sides {
		argv := append([]string{"stat", "-c", "%s"}, paths(s.root, names)...)
		c0 := cpu(s.pid)
		t, err := w.run(benchmount.Cmd{Argv: argv})
		if err != nil {
			w.t.Fail(fmt.Sprintf("walk: stat merged, %d cold sandboxes", len(names)), err)
			return
		}
		wall[i], perCPU[i] = t.Seconds()/float64(len(names)), (cpu(s.pid)-c0)/float64(len(names))
	}
	w.t.Add(table.Row{Name: fmt.Sprintf("walk: stat merged x%d cold: mount CPU/stat", len(names)), Secs: perCPU[0],
		Ratio: table.Ratio(perCPU[0], perCPU[1], "loopback")})
	w.t.Add(table.Row{Name: "  loopback CPU/stat (reference)", Secs: perCPU[1]})
	w.t.Add(table.Row{Name: "  wall time/stat, mount", Secs: wall[0],
		Ratio: table.Ratios(table.Ratio(wall[0], wall[1], "loopback"), table.Ratio(wall[0], wall[2], "plain"))})
	w.t.Add(table.Row{Name: "  wall time/stat, loopback (reference)", Secs: wall[1]})
	w.t.Add(table.Row{Name: "  wall time/stat, plain copy (reference)", Secs: wall[2]})
	w.t.Note("walk: CPU per stat is the serving process's CPU time (its threads' /proc/PID/task/*/schedstat) over the %d stats of one stat(1), divided by %d", len(names), len(names))
}

// coldCat times one cat(1) of merged of each of names on each side.
func (w *walker) coldCat(sides []side, names []string) {
	if len(names) == 0 {
		return
	}
	var secs, used [3]float64
	for i, s := range sides {
		c0 := cpu(s.pid)
		t, err := w.run(benchmount.Cmd{Argv: append([]string{"cat"}, paths(s.root, names)...)})
		if err != nil {
			w.t.Fail(fmt.Sprintf("walk: cat merged of %d cold sandboxes", len(names)), err)
			return
		}
		secs[i], used[i] = t.Seconds(), cpu(s.pid)-c0
	}
	size, _ := sizeOf(paths(sides[2].root, names))
	w.t.Add(table.Row{Name: fmt.Sprintf("walk: cat merged of %d cold sandboxes", len(names)),
		Secs: secs[0], Bytes: size, Ratio: table.Ratios(table.Ratio(secs[0], secs[1], "loopback"), table.Ratio(secs[0], secs[2], "plain"))})
	w.t.Add(table.Row{Name: "  loopback of the copy (reference)", Secs: secs[1], Bytes: size})
	w.t.Add(table.Row{Name: "  plain copy (reference)", Secs: secs[2], Bytes: size})
	w.t.Note("walk: cat merged of %d cold sandboxes (%s..%s): mount CPU %.2f s, loopback CPU %.2f s",
		len(names), names[0], names[len(names)-1], used[0], used[1])
}

// mmapRow says whether mmap(MAP_SHARED, PROT_READ) of a snapshot works and
// gives the bytes read(2) gives.
func (w *walker) mmapRow(path string) {
	verdict := "works, equals read()"
	if err := mmapEqualsRead(path); err != nil {
		verdict = err.Error()
	}
	w.t.Add(table.Row{Name: "walk: mmap(MAP_SHARED) of merged", Ratio: verdict})
}

// mmapEqualsRead maps path shared and read-only and compares the mapping
// with what read(2) returns.
func mmapEqualsRead(path string) error {
	want, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() <= 0 || info.Size() > 1<<30 {
		return fmt.Errorf("fstat: size %d, %v", sizeOr(info), err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, int(info.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("fails: %w", err)
	}
	defer syscall.Munmap(mem)
	if !bytes.Equal(mem, want) {
		return fmt.Errorf("maps %d bytes that differ from the %d read() gives", len(mem), len(want))
	}
	return nil
}

func sizeOr(info os.FileInfo) int64 {
	if info == nil {
		return -1
	}
	return info.Size()
}

// paths is root/name/merged for each name.
func paths(root string, names []string) []string {
	p := make([]string, len(names))
	for i, n := range names {
		p[i] = filepath.Join(root, n, "merged")
	}
	return p
}

// sizeOf sums the sizes of files.
func sizeOf(files []string) (int64, error) {
	var total int64
	var errs []error
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		total += info.Size()
	}
	return total, errors.Join(errs...)
}
