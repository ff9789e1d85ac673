package walk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/bench/internal/table"
)

// Config is what one walk run measures, and with what.
type Config struct {
	Bin      string // the msb-logfs binary
	Loopback string // the bench/loopback binary
	Dir      string // scratch: mountpoints, copies, cache dirs; the caller removes it
	Keep     string // where the corpora are kept between runs
	Walk     Small  // the walk corpus (2,000 sandboxes)
	Scale    Small  // the scaling corpus (10,000); Count 0 skips the scaling figures
	Stats    int    // cold stats, and cats, of the per-sandbox rows (1,000)
	Idle     time.Duration
	Limit    time.Duration // each timed command's time limit
	NoFile   int           // RLIMIT_NOFILE of the mounts (1,024)
	Big      Big           // the sandbox of the warm cat row; Home "" skips it
}

// Big names the big sandbox of the warm cat row.
type Big struct{ Home, Name string }

// walker is one run's state.
type walker struct {
	ctx    context.Context
	cfg    Config
	t      *table.Table
	mounts int // mountpoints made so far, for their names

	refSecs float64 // the last scaling reference, seconds (scaleRow)
}

// Run measures the walk and adds its rows and notes to t. A part that
// fails adds a failed row and the run goes on with the next; Run returns
// an error only when it was interrupted or could not start.
func Run(ctx context.Context, cfg Config, t *table.Table) error {
	if cfg.Stats < 1 || cfg.Stats > cfg.Walk.Count || cfg.NoFile < 64 || cfg.Limit <= 0 {
		return fmt.Errorf("walk: %d stats of %d sandboxes, nofile %d, limit %v: want 1 to the number of sandboxes, at least 64, above 0",
			cfg.Stats, cfg.Walk.Count, cfg.NoFile, cfg.Limit)
	}
	w := &walker{ctx: ctx, cfg: cfg, t: t}
	home, names, err := cfg.Walk.Ensure(cfg.Keep)
	if err != nil {
		return err
	}
	if err := warm(filepath.Join(home, "sandboxes")); err != nil {
		return err
	}
	copyDir, err := w.trees(home, names)
	if err != nil {
		w.t.Fail("walk: grep -r and cp -r", err)
	}
	if ctx.Err() == nil && copyDir != "" {
		w.sandboxRows(home, names, copyDir)
	}
	if ctx.Err() == nil && cfg.Big.Home != "" {
		w.warmCat()
	}
	if ctx.Err() == nil && cfg.Scale.Count > 0 {
		w.scale()
	}
	return ctx.Err()
}

// mount starts a mount of home under the RLIMIT_NOFILE of the walk, with a
// cache directory of its own (a cold start), ready once ready shows in it.
func (w *walker) mount(home, ready string) (*benchmount.Mount, string, error) {
	mnt, err := w.mountpoint("mnt")
	if err != nil {
		return nil, "", err
	}
	cache := filepath.Join(w.cfg.Dir, fmt.Sprintf("cache-%d", w.mounts))
	if err := os.Mkdir(cache, 0o755); err != nil {
		return nil, "", err
	}
	nofile := strconv.Itoa(w.cfg.NoFile)
	m, err := benchmount.StartMount(w.ctx, benchmount.Spec{Bin: w.cfg.Bin, Home: home, Mnt: mnt,
		LogPath: mnt + ".log", Ready: filepath.Join(mnt, ready),
		Prefix: []string{"prlimit", "--nofile=" + nofile + ":" + nofile}, Flags: []string{"--cache-dir", cache}})
	return m, mnt, err
}

// loopback starts the go-fuse loopback serving src, ready once ready
// (a name in src) shows in it.
func (w *walker) loopback(src, ready string) (*benchmount.Mount, string, error) {
	mnt, err := w.mountpoint("loopback")
	if err != nil {
		return nil, "", err
	}
	m, err := benchmount.StartLoopback(w.ctx, w.cfg.Loopback, src, mnt, mnt+".log", filepath.Join(mnt, ready))
	return m, mnt, err
}

// mountpoint makes a new empty directory named after kind.
func (w *walker) mountpoint(kind string) (string, error) {
	w.mounts++
	dir := filepath.Join(w.cfg.Dir, fmt.Sprintf("%s-%d", kind, w.mounts))
	return dir, os.Mkdir(dir, 0o755)
}

// run times argv under the walk's time limit.
func (w *walker) run(c benchmount.Cmd) (benchmount.Timed, error) {
	c.Limit = w.cfg.Limit
	return benchmount.Run(w.ctx, c)
}

// cpu is the CPU time pid has used, in seconds, 0 for no process (the
// plain tree): its threads' run time to the nanosecond where the kernel
// keeps schedstat, else utime+stime in 10 ms ticks.
func cpu(pid int) float64 {
	if pid == 0 {
		return 0
	}
	if d, err := benchmount.ThreadCPU(pid); err == nil && d > 0 {
		return d.Seconds()
	}
	s, _ := benchmount.CPUSeconds(pid)
	return s
}

// stop stops a mount or loopback process, noting a bad exit.
func (w *walker) stop(m *benchmount.Mount, what string) {
	if rc, _ := m.Stop(syscall.SIGINT); rc != 0 {
		w.t.Note("%s exited with status %d after SIGINT (want 0):\n%s", what, rc, benchmount.LogTail(m.LogPath(), 5))
	}
}

// warm reads every file under dir once, so that the logs are in the page
// cache for every figure, as they are for the plain copy.
func warm(dir string) error {
	buf := make([]byte, 1<<16)
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("warming the logs: %w", err)
		}
		defer f.Close()
		for {
			n, err := f.Read(buf)
			if n == 0 || err != nil {
				return nil
			}
		}
	})
}
