package engine

import "sort"

// idStat is what one checkpoint interval of the full merge holds of one
// session id: its entries, their decoded body bytes, the rendered bytes
// of each tracked view, the times of its first and last entries there (in
// merge order) and the sources seen.
type idStat struct {
	id          uint64
	entries     int64
	bytes       int64
	size        [maxTracked]int64
	first, last Time
	sources     SourceMask
}

// findID returns the stat of id in ids (sorted by id).
func findID(ids []idStat, id uint64) (*idStat, bool) {
	i := sort.Search(len(ids), func(i int) bool { return ids[i].id >= id })
	if i < len(ids) && ids[i].id == id {
		return &ids[i], true
	}
	return nil, false
}

// idTally counts the session ids of the entries since the last checkpoint
// of a pass. Bound: one idStat per distinct id in the interval.
type idTally struct {
	stats []idStat       // in order of first appearance
	at    map[uint64]int // id → index in stats
	cur   int            // index of the previous entry's id in stats
}

// add counts e, which has an id, whose rendered size in each tracked view
// is size.
func (t *idTally) add(e *Entry, size *[maxTracked]int64) {
	i := t.cur
	if i >= len(t.stats) || t.stats[i].id != e.ID { // the fast path: the same session again
		i = t.lookup(e)
		t.cur = i
	}
	st := &t.stats[i]
	st.entries++
	st.bytes += e.RawLen()
	for v := range st.size {
		st.size[v] += size[v]
	}
	st.last = e.Time
	st.sources |= 1 << e.Source
}

// lookup returns e's id's index in stats, adding it.
func (t *idTally) lookup(e *Entry) int {
	if t.at == nil {
		t.at = make(map[uint64]int)
	}
	i, ok := t.at[e.ID]
	if !ok {
		i = len(t.stats)
		t.at[e.ID] = i
		t.stats = append(t.stats, idStat{id: e.ID, first: e.Time})
	}
	return i
}

// take returns the interval's stats sorted by id, in a new array (a
// checkpoint's ids are never changed once made), and starts a new interval.
func (t *idTally) take() []idStat {
	var out []idStat
	if len(t.stats) > 0 {
		out = append(make([]idStat, 0, len(t.stats)), t.stats...)
		sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
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
func (x *index) sessionSegment(v View) *segment {
	slot := trackedIndex(v)
	cps, size := x.sessionCheckpoints(v.ID)
	x.cache.acquire()
	return &segment{view: v, slot: slot, files: x.files.Clone(), wit: x.wit, cps: cps,
		size: size[slot], cache: x.cache}
}

// sessionCheckpoints returns the checkpoints of the intervals where id
// occurs, with offsets counting only its entries, and its size in each
// tracked view.
func (x *index) sessionCheckpoints(id uint64) ([]checkpoint, [maxTracked]int64) {
	var cps []checkpoint
	var cum [maxTracked]int64
	last := -1
	add := func(i int) {
		if i != last {
			cp := x.cps[i]
			cp.offs, cp.ids = cum, nil
			cps = append(cps, cp)
			last = i
		}
	}
	for i := 1; i < len(x.cps); i++ {
		if st, ok := findID(x.cps[i].ids, id); ok {
			add(i - 1)
			addSizes(&cum, &st.size)
			add(i)
		}
	}
	if st, ok := findID(x.tail, id); ok {
		add(len(x.cps) - 1)
		addSizes(&cum, &st.size)
	}
	if len(cps) == 0 {
		cp := x.cps[0]
		cp.offs, cp.ids = [maxTracked]int64{}, nil
		cps = append(cps, cp)
	}
	return cps, cum
}

func addSizes(a, b *[maxTracked]int64) {
	for v := range a {
		a[v] += b[v]
	}
}
