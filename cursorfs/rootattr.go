package cursorfs

import (
	"sync"
	"time"
)

// rootRelist is how old the root's last listing may be when a stat of the
// root answers from it. A stat of the root (every GETATTR of the mount
// point: `ls -ld`, find and du checking their way back up) would otherwise
// list every sandbox; so the root is listed by a stat at most once per
// rootRelist, however many sandboxes the host holds and however often it
// is stat-ed. Every readdir of the root lists afresh and records what it
// saw, so a stat after an `ls` that shows a new sandbox shows its time.
const rootRelist = dirValid

// rootRecord is what the root's last listing showed: its time and the
// number of sandboxes (the root's link count is 2 more). Safe for
// concurrent use.
type rootRecord struct {
	relist sync.Mutex // one stat lists at a time: the others wait for its record

	mu      sync.Mutex
	at      time.Time // when it was listed; zero: never
	mtime   time.Time
	subdirs int
	lists   int64 // listings made (for tests)
}

// record keeps what a listing of the root made at `at` showed.
func (r *rootRecord) record(at, mtime time.Time, subdirs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lists++
	if at.Before(r.at) { // a slower listing that started earlier
		return
	}
	r.at, r.mtime, r.subdirs = at, mtime, subdirs
}

// fresh returns the record when it is younger than rootRelist at now.
func (r *rootRecord) fresh(now time.Time) (mtime time.Time, subdirs int, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at.IsZero() || now.Sub(r.at) >= rootRelist || now.Before(r.at) {
		return time.Time{}, 0, false
	}
	return r.mtime, r.subdirs, true
}

// listed returns how many listings of the root were made (for tests).
func (r *rootRecord) listed() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lists
}

// rootAttr returns the root's time and number of sandboxes: from the
// record when it is fresh, else from a new listing, which it records.
func (f *FS) rootAttr(d *Dir) (time.Time, int, error) {
	if mt, n, ok := f.root.fresh(f.listings.now()); ok {
		return mt, n, nil
	}
	f.root.relist.Lock()
	defer f.root.relist.Unlock()
	if mt, n, ok := f.root.fresh(f.listings.now()); ok { // listed while this one waited
		return mt, n, nil
	}
	if _, err := d.List(); err != nil { // records
		return time.Time{}, 0, err
	}
	mt, n := f.root.latest()
	return mt, n, nil
}

// latest returns the newest record, however old: a listing slower than
// rootRelist is still the newest there is.
func (r *rootRecord) latest() (mtime time.Time, subdirs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mtime, r.subdirs
}
