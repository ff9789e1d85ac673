package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"golang.org/x/sys/unix"
)

// pollEvery is the period of the safety poll that backs up the watcher.
const pollEvery = 2 * time.Second

// watcher is the one filesystem watcher of a Home: every follower of every
// sandbox of the process is woken through it, so a process holds one inotify
// instance however many streams it follows. A slow poll catches what
// inotify cannot see (a network filesystem, a directory created between a
// listing and its watch).
type watcher struct {
	home *Home
	fsw  *fsnotify.Watcher
	done chan struct{}
	wg   sync.WaitGroup

	mu         sync.Mutex
	listChange chan struct{}
	closed     bool
}

func newWatcher(h *Home) (*watcher, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", h.root, err)
	}
	w := &watcher{home: h, fsw: fsw, done: make(chan struct{}), listChange: make(chan struct{})}
	w.addRoot()
	w.wg.Add(2)
	go w.run()
	go w.poll()
	return w, nil
}

// ListChanged returns a channel closed at the next change of the list of
// sandboxes.
func (h *Home) ListChanged() <-chan struct{} {
	w := h.watcher
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.listChange
}

func (w *watcher) notifyList() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		close(w.listChange)
		w.listChange = make(chan struct{})
	}
}

// addRoot watches <home>/sandboxes, or <home> until it exists.
func (w *watcher) addRoot() {
	if err := w.fsw.Add(w.home.root); err != nil {
		_ = w.fsw.Add(w.home.dir)
	}
}

// watchSandbox watches a sandbox's directory and its logs directory.
func (w *watcher) watchSandbox(s *Sandbox) {
	dir := filepath.Join(w.home.root, s.name)
	for _, p := range []string{dir, filepath.Join(dir, "logs")} {
		if err := w.fsw.Add(p); err != nil && !errors.Is(err, fsnotify.ErrClosed) {
			slog.Debug("watch", "path", p, "err", err)
		}
	}
}

// unwatchSandbox removes the watches of a sandbox that is forgotten.
func (w *watcher) unwatchSandbox(s *Sandbox) {
	dir := filepath.Join(w.home.root, s.name)
	for _, p := range []string{filepath.Join(dir, "logs"), dir} {
		_ = w.fsw.Remove(p) // not watched (any more): nothing to do
	}
}

func (w *watcher) run() {
	defer w.wg.Done()
	for {
		select {
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			w.handle(ev)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			slog.Warn("watcher", "err", err)
			w.pollOnce() // events may have been lost
		}
	}
}

// handle routes one event to the sandbox it concerns.
func (w *watcher) handle(ev fsnotify.Event) {
	root := w.home.root
	if ev.Name == root {
		w.addRoot()
		w.notifyList()
		return
	}
	rel, err := filepath.Rel(root, ev.Name)
	if err != nil || strings.HasPrefix(rel, "..") {
		if filepath.Base(ev.Name) == "sandboxes" { // the root appeared
			w.addRoot()
			w.notifyList()
		}
		return
	}
	parts := strings.Split(rel, string(filepath.Separator))
	if len(parts) <= 2 { // a sandbox directory or its logs directory
		w.notifyList()
	}
	if s := w.home.lookup(parts[0]); s != nil {
		if len(parts) <= 2 && s.gone() {
			s.markRemoved()
			return
		}
		if len(parts) == 2 && ev.Has(fsnotify.Create) {
			w.watchSandbox(s) // logs/ created after the sandbox was looked up
		}
		s.notify()
	}
}

// poll is the slow safety net: it wakes a sandbox whose files changed
// without an event, and ends the ones that were removed.
func (w *watcher) poll() {
	defer w.wg.Done()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
			w.pollOnce()
		}
	}
}

// pollOnce looks at the sandboxes that handles hold: only their followers
// wait for changes (and a sandbox that nothing holds is forgotten when
// idle), so the poll's cost follows what is followed, not what exists.
func (w *watcher) pollOnce() {
	w.home.each(func(s *Sandbox) {
		if s.holds.Load() == 0 {
			return
		}
		if s.gone() {
			s.markRemoved()
			return
		}
		sig := signature(s.table)
		s.mu.Lock()
		changed := sig != s.sig
		s.sig = sig
		s.mu.Unlock()
		if changed {
			s.notify()
		}
	})
}

// close stops the watcher and wakes every sandbox's waiters.
func (w *watcher) close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.listChange)
	w.mu.Unlock()
	close(w.done)
	err := w.fsw.Close()
	w.wg.Wait()
	w.home.each(func(s *Sandbox) { s.notify() })
	return err
}

// signature describes the log files of t's sandbox by identity and size.
func signature(t *chain.FileTable) string {
	var b strings.Builder
	names := []string{RuntimeLogName, KernelLogName}
	for i := range ChainLen {
		names = append(names, chain.ChainName(i))
	}
	for _, n := range names {
		var st unix.Stat_t
		if unix.Lstat(t.Path(n), &st) == nil {
			fmt.Fprintf(&b, "%s:%d:%d:%d;", n, st.Ino, st.Size, st.Mtim.Nano())
		}
	}
	return b.String()
}
