package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/cache"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"golang.org/x/sys/unix"
)

// ErrNoSandbox is wrapped by errors about a sandbox that does not exist.
var ErrNoSandbox = errors.New("no such sandbox")

// Home is a microsandbox home: <dir>/sandboxes/<name>/logs/ for each
// sandbox. It hands out one Sandbox per name and follows changes through one
// shared watcher. Safe for concurrent use.
type Home struct {
	dir         string
	root        string // <dir>/sandboxes
	watcher     *watcher
	cacheDir    string // render caches; "" for none
	cacheBudget int64  // bytes; 0 for defaultCacheBudget
	cacheOnce   sync.Once
	caches      *cache.Store
	indexOnce   sync.Once
	indexes     *index.Store

	now func() time.Time // the clock of idle times and the hold (tests set it)
	// afterIndex, when set, runs in withIndex after the index is up to
	// date: a test makes the pass look slow with it. Set before use.
	afterIndex func()
	idleAfter  time.Duration
	maxLive    int
	racyMargin time.Duration // see RacyMargin
	parks      *parkStore    // summaries of sandboxes that hold no state
	// lastUse is the Unix ns of the last use of any sandbox, on the
	// home's clock; releasedAt is the lastUse the sweep last gave memory
	// back after; releaseMemory gives it back.
	lastUse       atomic.Int64
	releasedAt    atomic.Int64
	releaseMemory func()
	sweepDone     chan struct{}
	sweepWG       sync.WaitGroup
	closeOnce     sync.Once

	mu        sync.Mutex
	sandboxes map[string]*Sandbox
	live      map[*Sandbox]struct{} // sandboxes holding state
	dirSeen   map[string]seenDir    // when StatSandbox found each sandbox
	skipSaid  map[string]string     // the sandboxes List skipped, and why, as logged
}

// maxSkipSaid bounds the skipped names a Home remembers having logged; past
// it, further skips are not logged.
const maxSkipSaid = 1024

// OpenHome opens the microsandbox home dir. The sandboxes directory need not
// exist yet.
func OpenHome(dir string) (*Home, error) {
	return openHome(dir, homeConfig{now: time.Now, idleAfter: defaultIdleAfter, maxLive: defaultMaxLive})
}

// homeConfig is what tests may change of a Home before it starts.
type homeConfig struct {
	now        func() time.Time
	idleAfter  time.Duration
	maxLive    int
	racyMargin time.Duration // 0 for RacyMargin
	parkBudget int64         // 0 for ParkBudget
}

func openHome(dir string, cfg homeConfig) (*Home, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("home %s: %w", dir, err)
	}
	if cfg.racyMargin <= 0 {
		cfg.racyMargin = RacyMargin
	}
	if cfg.parkBudget <= 0 {
		cfg.parkBudget = ParkBudget
	}
	h := &Home{dir: abs, root: filepath.Join(abs, "sandboxes"), sandboxes: make(map[string]*Sandbox), cacheDir: DefaultCacheDir(),
		now: cfg.now, idleAfter: cfg.idleAfter, maxLive: cfg.maxLive, racyMargin: cfg.racyMargin,
		live: make(map[*Sandbox]struct{}), dirSeen: make(map[string]seenDir), skipSaid: make(map[string]string),
		sweepDone: make(chan struct{}), parks: newParkStore(cfg.parkBudget), releaseMemory: debug.FreeOSMemory}
	h.watcher, err = newWatcher(h)
	if err != nil {
		return nil, err
	}
	h.sweepWG.Add(1)
	go h.sweeper()
	return h, nil
}

// DefaultCacheDir is where render caches go unless told otherwise:
// $MSB_LOGFS_CACHE_DIR if set, else /var/tmp (on disk by convention, where
// /tmp is often tmpfs, that is memory), else os.TempDir().
func DefaultCacheDir() string {
	if d, ok := os.LookupEnv("MSB_LOGFS_CACHE_DIR"); ok {
		return d
	}
	if fi, err := os.Stat("/var/tmp"); err == nil && fi.IsDir() {
		return "/var/tmp"
	}
	return os.TempDir()
}

// SetCacheDir sets where views keep rendered chunks for fast re-reading:
// one file, <dir>/msb-logfs-cache.<pid>/chunks.<n>, removed by Close. The
// default is DefaultCacheDir(); "" renders every read instead. Call it
// before any view is opened.
func (h *Home) SetCacheDir(dir string) { h.cacheDir = dir }

// SetCacheBudget bounds the bytes the render cache holds on disk (whole
// blocks); 0 means defaultCacheBudget of the cache directory. Call it
// before any view is opened.
func (h *Home) SetCacheBudget(bytes int64) { h.cacheBudget = max(bytes, 0) }

// CacheUsed returns the bytes the render cache holds allocated on disk.
func (h *Home) CacheUsed() int64 {
	if s := h.cacheStore(); s != nil {
		return s.Used()
	}
	return 0
}

// defaultCacheBudget is the render cache's budget unless told otherwise:
// a tenth of the size of the filesystem that holds dir, at most 1 GiB (and
// 0, no cache, where dir cannot be measured).
func defaultCacheBudget(dir string) int64 {
	var st unix.Statfs_t
	if dir == "" || unix.Statfs(dir, &st) != nil || st.Bsize <= 0 {
		return 0
	}
	return min(1<<30, int64(st.Blocks)*st.Bsize/10)
}

// cacheStore returns the home's render cache, made at first use with the
// directory and budget set then.
func (h *Home) cacheStore() *cache.Store {
	h.cacheOnce.Do(func() {
		budget := h.cacheBudget
		if budget == 0 {
			budget = defaultCacheBudget(h.cacheDir)
		}
		h.caches = cache.NewStore(h.cacheDir, budget)
	})
	return h.caches
}

// indexStore returns where the home saves indexes: <cache dir>/
// msb-logfs-index, bounded by an eighth of the cache budget (beside it:
// the render cache keeps its whole budget), or nil with no cache.
func (h *Home) indexStore() *index.Store {
	s := h.cacheStore()
	if s == nil || s.Dir == "" || s.Budget <= 0 {
		return nil
	}
	h.indexOnce.Do(func() { h.indexes = &index.Store{Dir: filepath.Join(s.Dir, IndexDirName), Limit: s.Budget / 8} })
	return h.indexes
}

// Dir returns the home directory.
func (h *Home) Dir() string { return h.dir }

// SandboxesDir returns <home>/sandboxes.
func (h *Home) SandboxesDir() string { return h.root }

// Close stops the watcher and the sweeper, wakes every waiter and removes
// the render cache's file (open handles keep reading it).
func (h *Home) Close() error {
	err := h.watcher.close()
	h.closeOnce.Do(func() {
		close(h.sweepDone)
		h.sweepWG.Wait()
	})
	h.dropAllState()
	h.cacheStore().Close()
	return err
}

// dropAllState takes their state (open log files, indexes) from the
// sandboxes that hold it, as the sweep does from idle ones. What a handle
// holds is its own and stays until the handle is closed.
func (h *Home) dropAllState() {
	for _, s := range h.liveByAge() {
		s.mu.Lock()
		s.dropState()
		s.mu.Unlock()
	}
}

// List returns the names of the sandboxes that exist now, sorted.
func (h *Home) List() ([]string, error) {
	ents, err := os.ReadDir(h.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	var names []string
	for _, e := range ents {
		switch {
		case e.IsDir() && h.isDir(filepath.Join(h.root, e.Name(), "logs")): // e.IsDir: no symbolic link
			names = append(names, e.Name())
		case e.Type()&fs.ModeSymlink != 0:
			h.saySkipped(e.Name(), "a symbolic link, which is not followed")
		case e.IsDir():
			h.saySkipped(e.Name(), "no logs directory (or a symbolic link to one)")
		}
	}
	sort.Strings(names)
	return names, nil
}

// saySkipped logs, at info level and once per name and reason, that List
// leaves the entry name of the sandboxes directory out.
func (h *Home) saySkipped(name, why string) {
	h.mu.Lock()
	said, ok := h.skipSaid[name]
	if said != why && (ok || len(h.skipSaid) < maxSkipSaid) {
		h.skipSaid[name] = why
	} else {
		why = ""
	}
	h.mu.Unlock()
	if why != "" {
		slog.Info("sandbox skipped", "sandbox", name, "why", why, "dir", filepath.Join(h.root, name))
	}
}

// StatSandbox reports whether sandbox name exists and has a
// boot-error.json, by stat alone: it opens no file and makes no Sandbox,
// so that listing and stat-ing thousands of sandbox directories stays
// cheap. The result wraps ErrNoSandbox when the sandbox does not exist.
//
// That a sandbox exists, and the identity of its logs directory (an lstat
// and a statx), are remembered for HoldFor, as a file's state is
// (docs/filesystem.md, "Stat and fstat"): `ls -l` looks each directory up
// and then stats it, and `stat MNT/sb/merged` looks the directory up and
// then the file, whose Sandbox takes the identity from here; the second
// check costs one stat, of boot-error.json, which is always looked at
// afresh. Only sandboxes that exist are remembered, so the memory is
// bounded by the directories on disk; the sweeper drops the old ones.
func (h *Home) StatSandbox(name string) (bootError bool, err error) {
	if _, ok := h.recentDir(name); !ok {
		now := h.now()
		id, ok := h.identify(name)
		if !ok {
			return false, fmt.Errorf("%w: %q", ErrNoSandbox, name)
		}
		h.mu.Lock()
		h.dirSeen[name] = seenDir{at: now, id: id}
		h.mu.Unlock()
	}
	var st unix.Stat_t
	err = unix.Fstatat(unix.AT_FDCWD, h.root+"/"+name+"/logs/"+BootErrorName, &st, unix.AT_SYMLINK_NOFOLLOW)
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG, nil
}

// seenDir is when StatSandbox last found a sandbox, and the identity of
// its logs directory then.
type seenDir struct {
	at time.Time
	id DirID
}

// recentDir returns the identity of sandbox name's logs directory when
// StatSandbox found it less than HoldFor ago.
func (h *Home) recentDir(name string) (DirID, bool) {
	h.mu.Lock()
	seen, ok := h.dirSeen[name]
	h.mu.Unlock()
	if !ok || h.now().Sub(seen.at) >= HoldFor {
		return DirID{}, false
	}
	return seen.id, true
}

// identify returns the identity of <root>/<name>/logs; false when it is
// not a directory, or <root>/<name> is not one (a symbolic link to one is
// not followed).
func (h *Home) identify(name string) (DirID, bool) {
	if !validName(name) {
		return DirID{}, false
	}
	dir := h.root + "/" + name // validName: one clean path element
	if !h.isDir(dir) {
		return DirID{}, false
	}
	return IdentifyDir(dir + "/logs")
}

// isDir reports whether path is a directory, not a symbolic link to one.
func (h *Home) isDir(path string) bool {
	var st unix.Stat_t
	return unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

func validName(name string) bool {
	return name != "" && name != "." && name != ".." && filepath.Base(name) == name
}

// Sandbox returns the sandbox name, or an error wrapping ErrNoSandbox.
// A sandbox handed out before costs one statx: its logs directory is still
// the one it reads (the files themselves are opened refusing any symbolic
// link on the way). So does a new one that StatSandbox found less than
// HoldFor ago (the lookup of its directory, just before): its logs
// directory is still the one found then, and no more need be looked at.
func (h *Home) Sandbox(name string) (*Sandbox, error) {
	if s := h.lookup(name); s != nil && !s.isRemoved() {
		if id, ok := IdentifyDir(s.LogsDir()); ok && id == s.dir {
			s.touch()
			return s, nil
		}
	}
	id, found := h.recentDir(name)
	if found {
		now, ok := IdentifyDir(h.root + "/" + name + "/logs")
		found = ok && now == id
	}
	if !found {
		if id, found = h.identify(name); !found {
			return nil, fmt.Errorf("%w: %q (no %s)", ErrNoSandbox, name, filepath.Join(h.root, name, "logs"))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sandboxes[name]
	if s != nil {
		s.touch()
	}
	if s != nil && !s.isRemoved() && s.dir != id { // removed and made again
		s.removed.Store(true)
		s.notify()
	}
	if s == nil || s.isRemoved() {
		// Not watched yet: the removed directories may have taken their
		// watches with them, so the new one adds its own (again, if they
		// are still there) at its first Changed.
		s = newSandbox(h, name, id)
		s.touch()
		h.sandboxes[name] = s
	}
	return s, nil
}

// watch adds the inotify watches of s at its first Changed, if s is the
// sandbox the map holds for its name: only waiters on Changed need them,
// so a walk over many sandboxes adds none. The watches are added and
// removed under h.mu, so a forgotten sandbox's removal never undoes them.
func (h *Home) watch(s *Sandbox) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !s.watched && h.sandboxes[s.name] == s {
		h.watcher.watchSandbox(s)
		s.watched = true
	}
}

// lookup returns the sandbox already handed out for name, if any.
func (h *Home) lookup(name string) *Sandbox {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sandboxes[name]
}

// each calls fn for every sandbox handed out.
func (h *Home) each(fn func(*Sandbox)) {
	h.mu.Lock()
	list := make([]*Sandbox, 0, len(h.sandboxes))
	for _, s := range h.sandboxes {
		list = append(list, s)
	}
	h.mu.Unlock()
	for _, s := range list {
		fn(s)
	}
}

// forget drops a removed sandbox.
func (h *Home) forget(s *Sandbox) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sandboxes[s.name] == s {
		delete(h.sandboxes, s.name)
	}
}
