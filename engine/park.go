package engine

import (
	"container/list"
	"sync"
	"time"
	"unsafe"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
)

// ParkBudget bounds the bytes of parked sandbox summaries a Home keeps:
// past it, the least recently used are let go (and their sandboxes are
// parsed again at their next stat). A small sandbox's summary is about
// 1.8 KB, so the default keeps about 18,000 of them.
const ParkBudget = 32 << 20

// RacyMargin is how much older than the moment its files were opened a
// sandbox's files' change times must be for their stamp to vouch for
// their bytes later (see chain.Stamp). A change time is kept at the
// filesystem's granularity (a clock tick on Linux, seconds on some): a
// write in the same tick as the stamp could leave it as it was, but a
// write after the stamp gets a change time later than the stamp's moment
// less one tick.
const RacyMargin = 2 * time.Second

// parked is what a sandbox keeps once its state is let go: the stamp of
// its log names when its indexes last described them, and those indexes,
// parked. Never changed once made.
type parked struct {
	name    string
	dir     DirID
	st      chain.Stamp
	indexes []*index.Parked // one per stream, few
	bytes   int64
}

// index returns the parked index of stream, or nil.
func (p *parked) index(stream SourceMask) *index.Parked {
	for _, x := range p.indexes {
		if x.Stream() == stream {
			return x
		}
	}
	return nil
}

// parkStore holds the parked summaries of a home's sandboxes by name,
// least recently used first out, within a budget of bytes. It owns them:
// a sandbox that gets state again takes its summary out, and puts a new
// one in when it lets its state go. Safe for concurrent use.
type parkStore struct {
	mu     sync.Mutex
	budget int64
	used   int64
	lru    list.List // of *parked, most recently used at the front
	byName map[string]*list.Element
}

func newParkStore(budget int64) *parkStore {
	return &parkStore{budget: budget, byName: make(map[string]*list.Element)}
}

// parkedOverhead is what an entry costs besides its indexes: the entry,
// its list element and its share of the map.
const parkedOverhead = int64(unsafe.Sizeof(parked{}) + unsafe.Sizeof(list.Element{}) + 64)

// put stores p in place of what the store held for its name, then lets
// the least recently used go while over budget. A summary larger than a
// quarter of the budget is not kept.
func (ps *parkStore) put(p *parked) {
	p.bytes = parkedOverhead + int64(len(p.name))
	for _, x := range p.indexes {
		p.bytes += x.Bytes()
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.removeLocked(p.name)
	if p.bytes > ps.budget/4 {
		return
	}
	ps.byName[p.name] = ps.lru.PushFront(p)
	ps.used += p.bytes
	for ps.used > ps.budget {
		ps.removeLocked(ps.lru.Back().Value.(*parked).name)
	}
}

// get returns the summary of sandbox name whose logs directory is dir,
// marking it used, or nil. A summary of another directory of that name
// (removed and made again) is let go.
func (ps *parkStore) get(name string, dir DirID) *parked {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.getLocked(name, dir)
}

func (ps *parkStore) getLocked(name string, dir DirID) *parked {
	e := ps.byName[name]
	if e == nil {
		return nil
	}
	p := e.Value.(*parked)
	if p.dir != dir {
		ps.removeLocked(name)
		return nil
	}
	ps.lru.MoveToFront(e)
	return p
}

// take removes and returns the summary get would return.
func (ps *parkStore) take(name string, dir DirID) *parked {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.getLocked(name, dir)
	if p != nil {
		ps.removeLocked(name)
	}
	return p
}

func (ps *parkStore) removeLocked(name string) {
	if e := ps.byName[name]; e != nil {
		ps.used -= e.Value.(*parked).bytes
		ps.lru.Remove(e)
		delete(ps.byName, name)
	}
}

// stats returns how many summaries the store holds and their bytes.
func (ps *parkStore) stats() (n int, bytes int64) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.byName), ps.used
}

// withSummary calls fn, with s.mu held, with the index of v's stream and
// the times of the files it reads, for a stat or the open of a file
// computed whole (a): from the parked summary when the log names still
// show the stamp it describes (no file opened, no pass), else as
// withIndexFor does.
func (s *Sandbox) withSummary(v View, warm bool, a access, fn func(x *index.Index, files chain.Times)) error {
	s.mu.Lock()
	if p := s.parkedNow(); p != nil {
		if px := p.index(v.Stream()); px != nil {
			if a == accessStat {
				s.statAt = s.home.now()
			}
			px.WithSummary(func(x *index.Index) { fn(x, &p.st) })
			s.mu.Unlock()
			return nil
		}
	}
	s.mu.Unlock()
	return s.withIndexFor(v, warm, a, func(x *index.Index, files *chain.FileSet) { fn(x, files) })
}

// parkedNow returns the sandbox's parked summary when s holds no state
// and its log names show the summary's stamp now, else nil. A stamp shown
// is shown again for HoldFor without a look, as a held state is. Called
// with s.mu held.
func (s *Sandbox) parkedNow() *parked {
	if s.shown != nil {
		return nil
	}
	p := s.home.parks.get(s.name, s.dir)
	if p == nil {
		return nil
	}
	s.touch()
	if s.probed != nil && *s.probed == p.st && s.home.now().Sub(s.probedAt) < HoldFor {
		return p
	}
	st, ok := chain.ProbeStamp(s.table)
	if !ok || st != p.st {
		return nil
	}
	s.probed, s.probedAt = &p.st, s.home.now()
	return p
}

// unpark takes the sandbox's parked summary out of the store and, when it
// describes files, makes its indexes the sandbox's. Called with s.mu held
// and no index.
func (s *Sandbox) unpark(files *chain.FileSet) {
	p := s.home.parks.take(s.name, s.dir)
	if p == nil || files.Stamp() != p.st {
		return
	}
	for _, px := range p.indexes {
		s.indexes[px.Stream()] = px.Unpark(files.Clone(), s.home.cacheStore(), s.home.indexStore())
	}
}

// park puts a summary of the sandbox's indexes in the home's store, if
// it has log files and they changed last RacyMargin before they were
// opened (see chain.Stamp). Called with s.mu held, before its state is let go.
func (s *Sandbox) park() {
	if s.shown == nil || s.isRemoved() {
		return
	}
	st := s.shown.Stamp()
	if st == (chain.Stamp{}) || !st.Settled(s.shown.At(), s.home.racyMargin) { // no file: a removed sandbox would show the same stamp
		return
	}
	p := &parked{name: s.name, dir: s.dir, st: st}
	for _, x := range s.indexes {
		if f := x.Files(); f != nil && f.Stamp() == st {
			p.indexes = append(p.indexes, x.Park())
		}
	}
	if len(p.indexes) > 0 {
		s.home.parks.put(p)
	}
}
