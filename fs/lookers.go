package fs

import "time"

// lookers remembers the threads that looked a file up by name lately: a
// walk that stats or opens each file it lists (du, ls -l, grep -r, cp -r,
// tar, rsync) rather than only listing (find, ls). A sandbox's or a
// session's listing read by one of them gives the files' entries
// (dirHandle.Lookup), which saves it a LOOKUP per file; read by any other
// thread it gives none, which saves the mount a stat and the kernel an
// inode per file that would never be used. It is a hint: a thread wrongly
// taken for one or the other costs time, never a wrong answer. It holds
// the last recentCap threads, each for lookerFor after its last lookup of
// a file.
type lookers struct {
	threads recentTable[int, struct{}]
}

// lookerFor is how long a thread stays one without a lookup of a file. A
// walker given its files' entries still looks up each sandbox's directory
// and the files whose entries have expired, which renews it.
const lookerFor = time.Second

// saw notes that thread tid (0: unknown) looked a file up at now.
func (l *lookers) saw(tid int, now time.Time) {
	if tid != 0 {
		l.threads.note(tid, struct{}{}, now)
	}
}

// recent reports whether thread tid looked a file up within lookerFor
// before now.
func (l *lookers) recent(tid int, now time.Time) bool {
	return tid != 0 && l.threads.within(tid, lookerFor, now, func(*struct{}) bool { return true })
}
