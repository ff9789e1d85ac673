package cursorfs

import (
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// permCache computes the Perm of the root, the sandbox directories and their
// files, and keeps each result for engine.HoldFor, the interval for which
// the mount holds any state it has shown: a lookup and a stat of one path
// make the kernel ask for the attributes of every directory on the way,
// each of which would otherwise take a dozen lstat calls. A change of the
// disk's modes shows within that interval. It keeps at most
// maxPermEntries results. Safe for concurrent use.
type permCache struct {
	home *engine.Home
	now  func() time.Time

	mu      sync.Mutex
	entries map[permKey]permEntry
}

// maxPermEntries bounds what permCache keeps: past it, the results older than
// the hold interval are dropped, and if that is not enough, all of them.
const maxPermEntries = 4096

// permKey names what a Perm is of: the root (sandbox ""), a sandbox
// directory (file -1) or one of its files (an index in Files).
type permKey struct {
	sandbox string
	file    int
}

type permEntry struct {
	p   Perm
	err error
	at  time.Time
}

// newPerms returns the permission computer of home.
func newPerms(home *engine.Home) *permCache {
	return &permCache{home: home, now: time.Now, entries: make(map[permKey]permEntry)}
}

// Root returns rootPermAt, at most engine.HoldFor old.
func (c *permCache) Root() (Perm, error) {
	return c.get(permKey{"", -1}, func() (Perm, error) { return rootPermAt(c.home) })
}

// Sandbox returns sandboxPermAt of sandbox, at most engine.HoldFor old.
func (c *permCache) Sandbox(sandbox string) (Perm, error) {
	return c.get(permKey{"/" + sandbox, -1}, func() (Perm, error) { return sandboxPermAt(c.home, sandbox) })
}

// File returns filePermAt of file i of Files in sandbox, at most
// engine.HoldFor old.
func (c *permCache) File(sandbox string, i int) (Perm, error) {
	return c.get(permKey{"/" + sandbox, i}, func() (Perm, error) { return filePermAt(c.home, sandbox, Files[i]) })
}

// get returns the held result of k, or computes and holds a new one.
func (c *permCache) get(k permKey, compute func() (Perm, error)) (Perm, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < engine.HoldFor && !now.Before(e.at) {
		return e.p, e.err
	}
	p, err := compute()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxPermEntries {
		c.dropOld(now)
	}
	c.entries[k] = permEntry{p, err, now}
	return p, err
}

// dropOld drops the results older than the hold interval, or all of them
// if none is.
func (c *permCache) dropOld(now time.Time) {
	for k, e := range c.entries {
		if now.Sub(e.at) >= engine.HoldFor || now.Before(e.at) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= maxPermEntries {
		clear(c.entries)
	}
}

// held returns how many results c keeps (for tests).
func (c *permCache) held() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
