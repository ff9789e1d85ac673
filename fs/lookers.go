package fs

import (
	"sync"
	"time"
)

// lookers remembers the threads that looked a file up by name lately: a
// walk that stats or opens each file it lists (du, ls -l, grep -r, cp -r,
// tar, rsync) rather than only listing (find, ls). A sandbox's or a
// session's listing read by one of them gives the files' entries
// (dirHandle.Lookup), which saves it a LOOKUP per file; read by any other
// thread it gives none, which saves the mount a stat and the kernel an
// inode per file that would never be used. It is a hint: a thread wrongly
// taken for one or the other costs time, never a wrong answer. It holds
// at most lookersCap threads, each for lookerFor after its last lookup of
// a file, the least recently seen given up first.
type lookers struct {
	mu      sync.Mutex
	threads [lookersCap]looker
}

// looker is a thread of lookers and when it last looked a file up.
type looker struct {
	tid int
	at  time.Time
}

const (
	lookersCap = 16
	// lookerFor is how long a thread stays one without a lookup of a
	// file. A walker given its files' entries still looks up each
	// sandbox's cursor (whose entry is never kept), which renews it.
	lookerFor = time.Second
)

// saw notes that thread tid (0: unknown) looked a file up at now.
func (l *lookers) saw(tid int, now time.Time) {
	if tid == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	oldest := 0
	for i, t := range l.threads {
		if t.tid == tid {
			l.threads[i].at = now
			return
		}
		if t.at.Before(l.threads[oldest].at) {
			oldest = i
		}
	}
	l.threads[oldest] = looker{tid: tid, at: now}
}

// recent reports whether thread tid looked a file up within lookerFor
// before now.
func (l *lookers) recent(tid int, now time.Time) bool {
	if tid == 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.threads {
		if t.tid == tid {
			d := now.Sub(t.at)
			return d >= 0 && d < lookerFor
		}
	}
	return false
}
