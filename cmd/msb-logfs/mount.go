package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/urfave/cli/v2"

	"github.com/microsandbox/msb-logfs/cursorfs"
	"github.com/microsandbox/msb-logfs/engine"
	logfs "github.com/microsandbox/msb-logfs/fs"
	"github.com/microsandbox/msb-logfs/internal/cores"
)

func mountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "show sandbox logs as a read-only FUSE filesystem",
		ArgsUsage: "[MOUNTPOINT]",
		Description: `Mounts the logs of every sandbox of the home at MOUNTPOINT (default
` + defaultMountpoint + `) and serves them until SIGINT or SIGTERM, or until the mount is
unmounted. Each sandbox is a directory holding the snapshot files merged,
stdout, stderr, output, system and merged.jsonl, its cursor, and
boot-error.json when it has one.

The follow twins merged.follow, stdout.follow, stderr.follow, output.follow,
system.follow and the cursor-positioned reader seek are reachable by name
but not listed (unless --list-all), like mergerfs's .mergerfs control file:
their reads block for new data, so grep -r, tar, rsync and find, which walk
the tree, must never meet them. The live twins merged.live, stdout.live, …
(also by name only) show the same bytes as a follow file, but a read at the
end returns end of file and the size grows: for lnav, Fluent Bit and other
tools that read to the end and then poll.

Examples:
   msb-logfs mount /mnt/msb-logs &
   tail -f /mnt/msb-logs/foo/merged.follow
   lnav /mnt/msb-logs/foo/merged.live
   grep -r ERROR /mnt/msb-logs
   msb-logfs mount --daemon --home ~/.microsandbox /mnt/msb-logs && msb-logfs unmount /mnt/msb-logs
   msb-logfs mount --log-format json /mnt/msb-logs 2>mount.log

Log lines go to stderr, logfmt by default (--log-format json for JSON), at
info level: mounted, unmounted, warnings. Under systemd (Type=notify,
$NOTIFY_SOCKET) it sends READY=1 once the mount answers and STOPPING=1 when
it goes. mount(8) and /etc/fstab work too, through mount.fuse3, which runs
msb-logfs HOME MOUNTPOINT -o OPTIONS (the same as mount --daemon):
   mount -t fuse.msb-logfs ~/.microsandbox /mnt/msb-logs -o allow_other,cache_size=1GiB
Options: allow_other, list_all, debug, cache_size=SIZE, cache_dir=DIR,
log_format=FORMAT.`,
		Flags: []cli.Flag{
			homeFlag(),
			&cli.BoolFlag{Name: "allow-other", Usage: "let other users read the mount (needs user_allow_other in /etc/fuse.conf for non-root)"},
			&cli.BoolFlag{Name: "list-all", Usage: "also list the *.follow and *.live files and seek (tools that walk the tree may then block)"},
			&cli.BoolFlag{Name: "daemon", Usage: "mount in the background; return once the mount is ready"},
			&cli.BoolFlag{Name: "debug", Usage: "log every FUSE request"},
			&cli.BoolFlag{Name: helperFlag, Hidden: true, Usage: "the mount(8) form: a missing MOUNTPOINT is an error"},
			logFormatFlag(),
			&cli.StringFlag{Name: "cache-dir", Value: engine.DefaultCacheDir(), EnvVars: []string{"MSB_LOGFS_CACHE_DIR"},
				Usage: "keep rendered views for fast re-reading in `DIR`/" + engine.CacheDirPrefix + "<pid>/ (\"\" renders every read)"},
			&cli.StringFlag{Name: "cache-size", Usage: "bound the render cache on disk to `SIZE` (16MiB, 1GiB, 500MB; 0: no cache; default: a tenth of the cache filesystem, at most 1GiB)"},
		},
		Action: runMount,
	}
}

// mountConfig is what a mount needs, from the flags.
type mountConfig struct {
	home      string
	mnt       string
	cacheDir  string
	cacheSize string // as given; "" for the default
	logFormat string // --log-format, passed on to a daemon child
	helper    bool   // the mount(8) form: the mountpoint must exist
	opts      logfs.Options
}

func runMount(c *cli.Context) error {
	if err := setupLogging(c); err != nil {
		return err
	}
	if c.NArg() > 1 {
		return usageError(errors.New("mount: at most one MOUNTPOINT"))
	}
	cfg, err := mountConfigOf(c)
	if err != nil {
		return err
	}
	if c.Bool("daemon") {
		return daemonize(cfg)
	}
	m, err := startMount(cfg)
	if err != nil {
		reportNotReady(err)
		return err
	}
	slog.Info("mounted", "mountpoint", cfg.mnt, "home", cfg.home, "pid", os.Getpid())
	sdNotify(daemon.SdNotifyReady)
	if isDaemonChild() { // the waiting parent warns
		reportReady(m.banner(false), cfg.opts.Debug)
	} else {
		warnNoSandboxes(cfg.home)
		fmt.Println(m.banner(true))
	}
	m.serve()
	return nil
}

func mountConfigOf(c *cli.Context) (mountConfig, error) {
	home, err := homeDir(c)
	if err != nil {
		return mountConfig{}, err
	}
	mnt, err := mountpointArg(c.Args().First(), defaultMountpoint)
	if err != nil {
		return mountConfig{}, err
	}
	if _, err := cacheBudget(c.String("cache-size")); err != nil {
		return mountConfig{}, usageError(fmt.Errorf("mount: --cache-size: %w", err))
	}
	return mountConfig{home: home, mnt: mnt, cacheDir: c.String("cache-dir"), cacheSize: c.String("cache-size"), logFormat: c.String("log-format"), helper: c.Bool(helperFlag), opts: logfs.Options{
		ListAll:     c.Bool("list-all"),
		AllowOther:  c.Bool("allow-other"),
		DirectMount: os.Geteuid() == 0,
		Debug:       c.Bool("debug"),
	}}, nil
}

// mount is a running mount.
type mount struct {
	cfg      mountConfig
	created  []string // directories made for the mountpoint, deepest first
	home     *engine.Home
	fsys     *cursorfs.FS
	srv      *logfs.Server
	dev      uint64
	sigs     chan os.Signal // SIGINT and SIGTERM, caught from before the mount
	unnarrow func()         // puts back the processors the mount narrowed
}

// serveProcs is how many processors a mount's Go code runs on while no
// parse is split between workers (internal/cores).
const serveProcs = 1

// startMount mounts cfg and serves it in the background. SIGINT and
// SIGTERM are caught from before the mount, so that one sent as soon as
// the mount is ready (a systemd stop right after READY=1) unmounts it.
func startMount(cfg mountConfig) (m *mount, err error) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer func() {
		if err != nil {
			signal.Stop(sigs)
		}
	}()
	if err := checkFuse(cfg.opts.DirectMount); err != nil {
		return nil, err
	}
	created, err := prepareMountpoint(cfg.mnt, !cfg.helper)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			removeMade(created)
		}
	}()
	home, err := engine.OpenHome(cfg.home)
	if err != nil {
		return nil, err
	}
	setCache(home, cfg)
	fsys := cursorfs.New(home)
	// Requests are served on one processor; a parse split between
	// workers widens the process while it runs (internal/cores).
	unnarrow := cores.Narrow(serveProcs)
	srv, err := logfs.Mount(cfg.mnt, fsys, cfg.opts)
	if err != nil {
		unnarrow()
		home.Close()
		return nil, lineError{err}
	}
	m = &mount{cfg: cfg, created: created, home: home, fsys: fsys, srv: srv, sigs: sigs, unnarrow: unnarrow}
	if m.dev, err = mountDevice(cfg.mnt); err != nil {
		m.abort()
		return nil, err
	}
	return m, nil
}

// warnNoSandboxes warns, once a mount is made, when home has no sandboxes
// directory: a mistyped --home then shows an empty tree, and the log says
// where the sandboxes were looked for. An error that stops the mount
// stays the one line it is.
func warnNoSandboxes(home string) {
	dir := filepath.Join(home, "sandboxes")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		slog.Warn("home has no sandboxes directory: no sandbox to show until microsandbox makes it", "expected", dir)
	}
}

// cacheBudget parses --cache-size: -1 for the default.
func cacheBudget(size string) (int64, error) {
	if size == "" {
		return -1, nil
	}
	return parseSize(size)
}

// setCache gives home the cache directory and budget of cfg (checked by
// mountConfigOf): a budget of 0 keeps no cache.
func setCache(home *engine.Home, cfg mountConfig) {
	budget, _ := cacheBudget(cfg.cacheSize)
	switch {
	case budget == 0:
		home.SetCacheDir("")
	case budget > 0:
		home.SetCacheDir(cfg.cacheDir)
		home.SetCacheBudget(budget)
	default:
		home.SetCacheDir(cfg.cacheDir)
	}
}

// banner is the startup line; foreground: the mount stops with Ctrl-C.
func (m *mount) banner(foreground bool) string {
	stop := "Stop with `msb-logfs unmount %s`."
	if foreground {
		stop = "Stop with Ctrl-C or `msb-logfs unmount %s`."
	}
	return fmt.Sprintf("msb-logfs: %s mounted at %s (pid %d). The *.follow and *.live files and seek are reachable by name but not listed, like mergerfs's .mergerfs control file, so grep -r, tar and rsync never block or copy a growing file. "+stop,
		m.home.SandboxesDir(), m.cfg.mnt, os.Getpid(), m.cfg.mnt)
}

// serve waits for SIGINT, SIGTERM or an unmount from outside, then shuts
// the mount down.
func (m *mount) serve() {
	defer signal.Stop(m.sigs)
	served := make(chan struct{})
	go func() { m.srv.Wait(); close(served) }()
	stop := make(chan struct{})
	defer close(stop)
	select {
	case s := <-m.sigs:
		stopping("unmounting", "signal", s.String())
		m.shutdown(served)
	case <-served:
		stopping("unmounted from outside")
		m.close(served)
	case <-watchUnmount(m.cfg.mnt, m.dev, time.Second, stop):
		stopping("detached from outside")
		m.close(served)
	}
	slog.Info("unmounted", "mountpoint", m.cfg.mnt)
	removeMade(m.created)
}

// stopping tells systemd and the log that the mount is going away.
func stopping(msg string, args ...any) {
	sdNotify(daemon.SdNotifyStopping)
	slog.Info(msg, args...)
}

// abort unmounts a mount that serve is not waiting on.
func (m *mount) abort() {
	served := make(chan struct{})
	go func() { m.srv.Wait(); close(served) }()
	m.shutdown(served)
}

// shutdown unmounts in the order that never hangs: first every blocked
// reader gets end of file, then the kernel is asked to unmount, and if a
// process still holds a file open (tail -f), the mount is detached: it
// leaves the tree at once, and the process's next request fails when this
// process exits. served is closed when the server's loop has ended.
func (m *mount) shutdown(served <-chan struct{}) {
	m.fsys.Shutdown()
	if err := unmountServer(m.srv, served); err != nil {
		slog.Warn("unmount busy: detaching", "mountpoint", m.cfg.mnt, "err", err)
		if err := detach(m.cfg.mnt); err != nil {
			slog.Warn("detach", "err", err)
		}
	}
	m.close(served)
}

// close ends the readers of a mount that is unmounted or detached and
// releases the home. A detached mount lives on while files stay open: the
// readers woken with end of file need the process a moment more to get
// their answers, close their files and let the connection end.
func (m *mount) close(served <-chan struct{}) {
	m.fsys.Shutdown()
	m.drain(served)
	m.home.Close()
	m.unnarrow()
}

// drain waits, for at most drainFor, until the server's loop has ended or
// no read has been in flight for 50 ms: the readers woken by Shutdown have
// their answers, and what still holds a file (tail -f) only polls.
func (m *mount) drain(served <-chan struct{}) {
	deadline := time.After(drainFor)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for idle := 0; idle < 5; {
		select {
		case <-served:
			return
		case <-deadline:
			slog.Debug("reads still in flight at exit")
			return
		case <-tick.C:
		}
		if m.srv.ReadsInFlight() == 0 {
			idle++
		} else {
			idle = 0
		}
	}
}

// drainFor bounds the wait for woken readers: a thousand of them need about
// a second to get their answers and exit.
const drainFor = 5 * time.Second

// unmountServer asks the server to unmount, for at most a second.
func unmountServer(srv *logfs.Server, served <-chan struct{}) error {
	done := make(chan error, 1)
	go func() { done <- srv.Unmount() }()
	select {
	case err := <-done:
		return err
	case <-served:
		return nil
	case <-time.After(time.Second):
		return errors.New("unmount timed out")
	}
}
