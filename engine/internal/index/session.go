package index

import (
	"sort"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// IDStat is what one checkpoint interval of the full merge holds of one
// session id: its entries, their decoded body bytes, the rendered bytes
// of each tracked view, the times of its first and last entries there (in
// merge order) and the sources seen.
type IDStat struct {
	ID          uint64
	Entries     int64
	Bytes       int64
	Size        [MaxTracked]int64
	First, Last logline.Time
	Sources     logline.SourceMask
}

// findID returns the stat of id in ids (sorted by id).
func findID(ids []IDStat, id uint64) (*IDStat, bool) {
	i := sort.Search(len(ids), func(i int) bool { return ids[i].ID >= id })
	if i < len(ids) && ids[i].ID == id {
		return &ids[i], true
	}
	return nil, false
}

// idTally counts the session ids of the entries since the last checkpoint
// of a pass. Bound: one IDStat per distinct id in the interval.
type idTally struct {
	stats []IDStat       // in order of first appearance
	at    map[uint64]int // id → index in stats
	cur   int            // index of the previous entry's id in stats
}

// add counts e, which has an id, whose rendered size in each tracked view
// is size.
func (t *idTally) add(e *logline.Entry, size *[MaxTracked]int64) {
	i := t.cur
	if i >= len(t.stats) || t.stats[i].ID != e.ID { // the fast path: the same session again
		i = t.lookup(e)
		t.cur = i
	}
	st := &t.stats[i]
	st.Entries++
	st.Bytes += e.RawLen()
	for v := range st.Size {
		st.Size[v] += size[v]
	}
	st.Last = e.Time
	st.Sources |= 1 << e.Source
}

// lookup returns e's id's index in stats, adding it.
func (t *idTally) lookup(e *logline.Entry) int {
	if t.at == nil {
		t.at = make(map[uint64]int)
	}
	i, ok := t.at[e.ID]
	if !ok {
		i = len(t.stats)
		t.at[e.ID] = i
		t.stats = append(t.stats, IDStat{ID: e.ID, First: e.Time})
	}
	return i
}

// take returns the interval's stats sorted by id, in a new array (a
// checkpoint's ids are never changed once made), and starts a new interval.
func (t *idTally) take() []IDStat {
	var out []IDStat
	if len(t.stats) > 0 {
		out = append(make([]IDStat, 0, len(t.stats)), t.stats...)
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	}
	t.stats, t.cur = t.stats[:0], 0
	clear(t.at)
	return out
}

// reset drops what the tally holds.
func (t *idTally) reset() { *t = idTally{} }

// sessionSegment returns a snapshot of session view v: a segment whose
// checkpoints are those that bound the intervals where v's id occurs, with
// the session's cumulative sizes as offsets, so that a read resumes at the
// start of an interval holding the session and never parses one without
// it. The tail after the last checkpoint counts too.
func (x *Index) sessionSegment(v render.View) *Segment {
	slot := TrackedIndex(v)
	cps, size := x.sessionCheckpoints(v.ID)
	x.Cache.Acquire()
	return &Segment{view: v, slot: slot, files: x.files.Clone(), Wit: x.Wit, Cps: cps,
		Size: size[slot], Cache: x.Cache, m: feed{slot: x.lazySlot()}}
}

// sessionCheckpoints returns the checkpoints of the intervals where id
// occurs, with offsets counting only its entries, and its size in each
// tracked view.
func (x *Index) sessionCheckpoints(id uint64) ([]Checkpoint, [MaxTracked]int64) {
	var cps []Checkpoint
	var cum [MaxTracked]int64
	last := -1
	add := func(i int) {
		if i != last {
			cp := x.Cps[i]
			cp.Offs, cp.IDs = cum, nil
			cps = append(cps, cp)
			last = i
		}
	}
	for i := 1; i < len(x.Cps); i++ {
		if st, ok := findID(x.Cps[i].IDs, id); ok {
			add(i - 1)
			addSizes(&cum, &st.Size)
			add(i)
		}
	}
	if st, ok := findID(x.Tail, id); ok {
		add(len(x.Cps) - 1)
		addSizes(&cum, &st.Size)
	}
	if len(cps) == 0 {
		cp := x.Cps[0]
		cp.Offs, cp.IDs = [MaxTracked]int64{}, nil
		cps = append(cps, cp)
	}
	return cps, cum
}

func addSizes(a, b *[MaxTracked]int64) {
	for v := range a {
		a[v] += b[v]
	}
}
