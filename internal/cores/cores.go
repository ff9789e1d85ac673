// Package cores sets how many cores the process's Go code runs on at once
// (GOMAXPROCS): one while the process only serves requests, all of them
// while work split between goroutines runs.
//
// A FUSE server's request is a short burst of Go between two system calls
// (the read of the request from /dev/fuse and the write of its reply).
// With more than one processor, each burst wakes the scheduler's other
// threads: the runtime takes the processor of a thread blocked in its read
// and hands it to another, and that thread spins, finds nothing and
// sleeps. A walk over small files is then mostly those wake-ups. With one
// processor, a request is served by the thread that read it. Work that
// does run on several cores (a parse split between workers) widens the
// process for as long as it runs.
//
// What lives here is the setting and its leases; how many workers a parse
// runs is decided by its caller (engine/internal/chain), and which
// processes narrow (the mount) by theirs.
package cores

import (
	"os"
	"runtime"
	"sync"
	"time"
)

// setting is the process's: GOMAXPROCS is one number per process.
var setting procSetting

// procSetting is the process's setting and its leases.
type procSetting struct {
	mu     sync.Mutex
	narrow int // the processors while no lease is held; 0: not narrowed
	wide   int // the processors while one is, and the most parallel work may use
	leases int
	linger *time.Timer // narrows lingerFor after the last lease; nil: none pending
	gen    uint64      // counts the lingers scheduled: a late one narrows nothing
}

// lingerFor is how long the process stays wide after its last lease: a
// long read parses in phases (the index pass, then each view's render),
// and narrowing between two of them stops the world twice for nothing and
// leaves the reader and the collector one processor in the gap.
var lingerFor = 200 * time.Millisecond

// Narrow makes the process's Go code run on n processors (at least one)
// while no Widen lease is held, and returns the function that puts back
// the setting it found. It does nothing when the GOMAXPROCS environment
// variable is set: the operator's choice stands.
func Narrow(n int) (restore func()) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		return func() {}
	}
	s := &setting
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.narrow != 0 {
		return func() {} // narrowed already: the first call owns the setting
	}
	s.wide = runtime.GOMAXPROCS(0)
	s.narrow = min(max(n, 1), s.wide)
	if s.leases == 0 {
		runtime.GOMAXPROCS(s.narrow)
	}
	return undoNarrow
}

// undoNarrow undoes Narrow.
func undoNarrow() {
	s := &setting
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.narrow == 0 {
		return
	}
	s.stopLinger()
	runtime.GOMAXPROCS(s.wide)
	s.narrow, s.wide = 0, 0
}

// Wide returns how many processors parallel work may use: the process's
// GOMAXPROCS as it was before Narrow.
func Wide() int {
	s := &setting
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.narrow == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return s.wide
}

// Widen lets the process's Go code run on Wide processors until release
// is called, once, for this lease. The first lease widens, and the process
// narrows again lingerFor after the last release unless a lease is taken
// meanwhile; each change is a short stop of the world, so a lease is meant
// for work that runs for milliseconds at least.
func Widen() (release func()) {
	s := &setting
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leases++
	if s.leases == 1 && s.narrow != 0 && !s.stopLinger() {
		runtime.GOMAXPROCS(s.wide)
	}
	var once sync.Once
	return func() { once.Do(unlease) }
}

// unlease gives one lease back.
func unlease() {
	s := &setting
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leases--
	if s.leases == 0 && s.narrow != 0 {
		s.gen++
		gen := s.gen
		s.linger = time.AfterFunc(lingerFor, func() { narrowAfterLinger(gen) })
	}
}

// narrowAfterLinger narrows the process if the linger gen is the one
// pending: no lease was taken since the last was given back.
func narrowAfterLinger(gen uint64) {
	s := &setting
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.linger != nil && s.gen == gen && s.leases == 0 && s.narrow != 0 {
		runtime.GOMAXPROCS(s.narrow)
		s.linger = nil
	}
}

// stopLinger cancels a pending narrowing, and reports whether there was
// one (the process is still wide). Called with s.mu held.
func (s *procSetting) stopLinger() bool {
	if s.linger == nil {
		return false
	}
	s.linger.Stop()
	s.linger = nil
	return true
}
