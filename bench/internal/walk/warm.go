package walk

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// warmCat times a warm cat of the big sandbox's merged through the mount
// against plain cat of a copy of it on disk and cat of that copy through
// the loopback, each the fastest of warmRuns after a first cat.
func (w *walker) warmCat() {
	name := fmt.Sprintf("walk: warm cat %s/merged", w.cfg.Big.Name)
	m, mnt, err := w.mount(w.cfg.Big.Home, w.cfg.Big.Name)
	if err != nil {
		w.t.Fail(name, err)
		return
	}
	defer w.stop(m, "msb-logfs mount of the big sandbox")
	view := filepath.Join(mnt, w.cfg.Big.Name, "merged")
	dir := filepath.Join(w.cfg.Dir, "big-copy")
	if err := os.Mkdir(dir, 0o755); err != nil {
		w.t.Fail(name, err)
		return
	}
	defer os.RemoveAll(dir)
	copied := filepath.Join(dir, "merged")
	if _, err := w.run(benchmount.Cmd{Argv: []string{"cp", view, copied}}); err != nil {
		w.t.Fail(name, err)
		return
	}
	mt, err := w.secondCat(view)
	if err != nil {
		w.t.Fail(name, err)
		return
	}
	pt, perr := w.secondCat(copied)
	lt, lerr := w.loopbackCat(dir)
	size, _ := sizeOf([]string{copied})
	w.t.Add(table.Row{Name: name, Secs: mt, Bytes: size,
		Ratio: table.Ratios(table.Ratio(pt, mt, "plain's speed"), table.Ratio(lt, mt, "loopback's"))})
	w.t.Add(table.Row{Name: "  plain cat of a copy (reference)", Secs: pt, Bytes: size, Failed: perr != nil})
	w.t.Add(table.Row{Name: "  the copy through the loopback (ref.)", Secs: lt, Bytes: size, Failed: lerr != nil})
	for _, err := range []error{perr, lerr} {
		if err != nil {
			w.t.Note("%s: reference FAILED: %v", name, err)
		}
	}
}

// loopbackCat is secondCat of dir/merged through a fresh loopback of dir.
func (w *walker) loopbackCat(dir string) (float64, error) {
	lb, lbMnt, err := w.loopback(dir, "merged")
	if err != nil {
		return 0, err
	}
	defer w.stop(lb, "loopback")
	return w.secondCat(filepath.Join(lbMnt, "merged"))
}

// warmRuns is how many warm cats each side of the warm cat row gets, after
// a first one: the fastest is reported, as a shared machine makes single
// runs of a tenth of a second noisy.
const warmRuns = 3

// secondCat cats path once, then warmRuns times, and returns the seconds
// of the fastest warm cat.
func (w *walker) secondCat(path string) (float64, error) {
	best := 0.0
	for i := range warmRuns + 1 {
		t, err := w.run(benchmount.Cmd{Argv: []string{"cat", path}})
		if err != nil {
			return 0, err
		}
		if i > 0 && (best == 0 || t.Seconds() < best) {
			best = t.Seconds()
		}
	}
	return best, nil
}
