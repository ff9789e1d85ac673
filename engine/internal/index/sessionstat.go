package index

import (
	"fmt"
	"io/fs"
	"sort"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
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
	First, Last logline.Time       // times of its first and last entries, in merge order
	Sources     logline.SourceMask // the sources of its entries
	Entries     int64              // how many entries
	Bytes       int64              // their decoded body bytes
	Cursor      logline.Cursor     // the merged cursor just after its last entry; filled only by Sandbox.Session
}

// sessionAgg is the index's sessions summed over its checkpoints, kept so
// that a listing or a stat does not go over every interval again.
type sessionAgg struct {
	upTo int                    // checkpoints summed into by
	by   map[uint64]*SessionSum // the sessions of cps[:upTo]
	list []SessionSum           // with the tail, by ID, when ok
	ok   bool
}

// SessionSum is a session and its size in each tracked view.
type SessionSum struct {
	SessionInfo
	Size [MaxTracked]int64
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
func fold(sum *SessionSum, st *IDStat) {
	if sum.Entries == 0 {
		sum.ID, sum.First = st.ID, st.First
	}
	sum.Last = st.Last
	sum.Sources |= st.Sources
	sum.Entries += st.Entries
	sum.Bytes += st.Bytes
	addSizes(&sum.Size, &st.Size)
}

// Sessions returns the index's sessions by ID; the caller must not change
// the slice.
func (x *Index) Sessions() []SessionSum {
	if x.parked != nil {
		return x.parked.sessionList()
	}
	a := &x.sess
	if a.ok {
		return a.list
	}
	if a.by == nil {
		a.by = make(map[uint64]*SessionSum)
	}
	for ; a.upTo < len(x.Cps); a.upTo++ {
		ids := x.Cps[a.upTo].IDs
		for i := range ids {
			info := a.by[ids[i].ID]
			if info == nil {
				info = &SessionSum{}
				a.by[ids[i].ID] = info
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
	for i := range x.Tail {
		st := &x.Tail[i]
		j := sort.Search(n, func(j int) bool { return list[j].ID >= st.ID })
		if j < n && list[j].ID == st.ID {
			fold(&list[j], st)
			continue
		}
		list = append(list, SessionSum{})
		fold(&list[len(list)-1], st)
	}
	if len(list) > n {
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	}
	a.list, a.ok = list, true
	return list
}

// Session returns session id of the index.
func (x *Index) Session(id uint64) (SessionSum, bool) {
	list := x.Sessions()
	i := sort.Search(len(list), func(i int) bool { return list[i].ID >= id })
	if i < len(list) && list[i].ID == id {
		return list[i], true
	}
	return SessionSum{}, false
}

// SessionEnd returns the merged cursor just after the last entry of
// session id: it merges again only the last interval where id occurs.
func (x *Index) SessionEnd(id uint64) (logline.Cursor, error) {
	from, to := -1, len(x.Cps) // to == len(cps): the tail, up to the end of the files
	if _, ok := findID(x.Tail, id); ok {
		from = len(x.Cps) - 1
	} else {
		for i := len(x.Cps) - 1; i >= 1 && from < 0; i-- {
			if _, ok := findID(x.Cps[i].IDs, id); ok {
				from, to = i-1, i
			}
		}
	}
	if from < 0 {
		return logline.Cursor{}, ErrNoSession
	}
	var m chain.Merger
	defer m.ReleaseBuffers()
	if err := m.Reset(x.files, logline.MaskAll, x.Cps[from].State); err != nil {
		return logline.Cursor{}, err
	}
	var c logline.Cursor
	found := false
	for to == len(x.Cps) || m.State != x.Cps[to].State {
		e, ok := m.Next()
		if !ok {
			break
		}
		if e.HasID && e.ID == id {
			c, found = m.State.Cursor, true
		}
	}
	if err := m.Err(); err != nil {
		return logline.Cursor{}, err
	}
	if !found {
		return logline.Cursor{}, fmt.Errorf("the interval after checkpoint %d does not hold the session the index says it does", from)
	}
	return c, nil
}
