package engine

import (
	"fmt"
	"io/fs"
	"sort"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
)

// ErrNoSession is returned for a session id the sandbox's logs do not hold.
// It satisfies errors.Is(err, fs.ErrNotExist).
var ErrNoSession error = noSession{}

type noSession struct{}

func (noSession) Error() string        { return "no such session" }
func (noSession) Is(target error) bool { return target == fs.ErrNotExist }

// SessionInfo describes one exec session of a sandbox: the entries that
// carry its id, in the full merge.
type SessionInfo struct {
	ID          uint64
	First, Last Time       // times of its first and last entries, in merge order
	Sources     SourceMask // the sources of its entries
	Entries     int64      // how many entries
	Bytes       int64      // their decoded body bytes
	Cursor      Cursor     // the merged cursor just after its last entry; filled only by Sandbox.Session
}

// Sessions returns the sessions of the sandbox's logs, sorted by ID. It
// reads the index brought up to date and renders nothing.
func (s *Sandbox) Sessions() ([]SessionInfo, error) {
	var out []SessionInfo
	err := s.withIndex(ViewMerged, false, func(x *index, _ *chain.FileSet) {
		sums := x.sessions()
		out = make([]SessionInfo, len(sums))
		for i := range sums {
			out[i] = sums[i].SessionInfo
		}
	})
	return out, err
}

// Session returns session id, with the cursor just after its last entry.
// An id the logs do not hold gives an error wrapping ErrNoSession.
func (s *Sandbox) Session(id uint64) (SessionInfo, error) {
	return s.session(id, true)
}

// SessionSummary returns session id as Sessions lists it, without its
// cursor: a lookup in the index, for a stat of its directory. An id the
// logs do not hold gives an error wrapping ErrNoSession.
func (s *Sandbox) SessionSummary(id uint64) (SessionInfo, error) {
	return s.session(id, false)
}

func (s *Sandbox) session(id uint64, withCursor bool) (SessionInfo, error) {
	var info SessionInfo
	var err error
	werr := s.withIndex(ViewMerged, false, func(x *index, _ *chain.FileSet) {
		sum, ok := x.session(id)
		if !ok {
			err = fmt.Errorf("sandbox %s: session %d: %w", s.name, id, ErrNoSession)
			return
		}
		info = sum.SessionInfo
		if !withCursor {
			return
		}
		if info.Cursor, err = x.sessionEnd(id); err != nil {
			err = fmt.Errorf("sandbox %s: session %d: %w", s.name, id, err)
		}
	})
	if werr != nil {
		return SessionInfo{}, werr
	}
	return info, err
}

// sessionAgg is the index's sessions summed over its checkpoints, kept so
// that a listing or a stat does not go over every interval again.
type sessionAgg struct {
	upTo int                    // checkpoints summed into by
	by   map[uint64]*sessionSum // the sessions of cps[:upTo]
	list []sessionSum           // with the tail, by ID, when ok
	ok   bool
}

// sessionSum is a session and its size in each tracked view.
type sessionSum struct {
	SessionInfo
	size [maxTracked]int64
}

// truncate forgets what was summed of checkpoints n and after.
func (a *sessionAgg) truncate(n int) {
	if a.upTo > n {
		*a = sessionAgg{}
	}
	a.ok = false
}

// changed marks the list stale: the index grew.
func (a *sessionAgg) changed() { a.ok = false }

// fold adds an interval's stat of a session to sum.
func fold(sum *sessionSum, st *idStat) {
	if sum.Entries == 0 {
		sum.ID, sum.First = st.id, st.first
	}
	sum.Last = st.last
	sum.Sources |= st.sources
	sum.Entries += st.entries
	sum.Bytes += st.bytes
	addSizes(&sum.size, &st.size)
}

// sessions returns the index's sessions by ID; the caller must not change
// the slice.
func (x *index) sessions() []sessionSum {
	a := &x.sess
	if a.ok {
		return a.list
	}
	if a.by == nil {
		a.by = make(map[uint64]*sessionSum)
	}
	for ; a.upTo < len(x.cps); a.upTo++ {
		ids := x.cps[a.upTo].ids
		for i := range ids {
			info := a.by[ids[i].id]
			if info == nil {
				info = &sessionSum{}
				a.by[ids[i].id] = info
			}
			fold(info, &ids[i])
		}
	}
	list := a.list[:0]
	for _, info := range a.by {
		list = append(list, *info)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	n := len(list)
	for i := range x.tail {
		st := &x.tail[i]
		j := sort.Search(n, func(j int) bool { return list[j].ID >= st.id })
		if j < n && list[j].ID == st.id {
			fold(&list[j], st)
			continue
		}
		list = append(list, sessionSum{})
		fold(&list[len(list)-1], st)
	}
	if len(list) > n {
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	}
	a.list, a.ok = list, true
	return list
}

// session returns session id of the index.
func (x *index) session(id uint64) (sessionSum, bool) {
	list := x.sessions()
	i := sort.Search(len(list), func(i int) bool { return list[i].ID >= id })
	if i < len(list) && list[i].ID == id {
		return list[i], true
	}
	return sessionSum{}, false
}

// sessionEnd returns the merged cursor just after the last entry of
// session id: it merges again only the last interval where id occurs.
func (x *index) sessionEnd(id uint64) (Cursor, error) {
	from, to := -1, len(x.cps) // to == len(cps): the tail, up to the end of the files
	if _, ok := findID(x.tail, id); ok {
		from = len(x.cps) - 1
	} else {
		for i := len(x.cps) - 1; i >= 1 && from < 0; i-- {
			if _, ok := findID(x.cps[i].ids, id); ok {
				from, to = i-1, i
			}
		}
	}
	if from < 0 {
		return Cursor{}, ErrNoSession
	}
	var m chain.Merger
	defer m.ReleaseBuffers()
	if err := m.Reset(x.files, MaskAll, x.cps[from].state); err != nil {
		return Cursor{}, err
	}
	var c Cursor
	found := false
	for to == len(x.cps) || m.State != x.cps[to].state {
		e, ok := m.Next()
		if !ok {
			break
		}
		if e.HasID && e.ID == id {
			c, found = m.State.Cursor, true
		}
	}
	if err := m.Err(); err != nil {
		return Cursor{}, err
	}
	if !found {
		return Cursor{}, fmt.Errorf("the interval after checkpoint %d does not hold the session the index says it does", from)
	}
	return c, nil
}

// sessionSize returns the size of session view v in index x, or an error
// wrapping ErrNoSession if x holds no entry of the session.
func (s *Sandbox) sessionSize(x *index, v View) (int64, error) {
	sum, ok := x.session(v.ID)
	if !ok {
		return 0, fmt.Errorf("sandbox %s: session %d: %w", s.name, v.ID, ErrNoSession)
	}
	return sum.size[trackedIndex(v)], nil
}
