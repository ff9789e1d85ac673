package index

import (
	"sort"

	"github.com/microsandbox/msb-logfs/engine/internal/cache"
	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// Index is the sparse index of one stream of a sandbox: checkpoints every
// few tens of KiB of input, and the size of every tracked view. It is built
// on first use and extended as the files grow. Not safe for concurrent use:
// the sandbox guards it.
type Index struct {
	stream logline.SourceMask
	Views  []render.View
	files  *chain.FileSet // the bounds it describes
	Wit    *chain.Witness // of files, taken before they were read
	Cps    []Checkpoint
	End    chain.State // every complete line below the bounds consumed
	Total  [MaxTracked]int64
	Counts chain.Counts // lines skipped below the bounds
	Tail   []IDStat     // the sessions after the last checkpoint, by id
	ids    idTally      // of the pass in progress
	sess   sessionAgg
	warm   warmer      // renders the asked view during a pass
	rec    *recordSlot // the record of files, if small (see Record)
	tried  bool        // rec was made or given up

	cacheSrc *cache.Store // where render caches come from; nil for none
	Cache    *cache.Cache // rendered chunks of the current checkpoints (one reference)
	serial   uint64       // the last checkpoint serial given

	saves   *Store // where the index is saved; nil for nowhere
	savedAt int    // len(cps) at the last save or restore

	parked *Parked // the summary x is of (Parked.Summary), whose sessions it shares; else nil
}

// New returns an empty index of stream, whose render caches come from
// caches and which is saved to saves (either nil: none).
func New(stream logline.SourceMask, caches *cache.Store, saves *Store) *Index {
	return &Index{stream: stream, Views: trackedViews(stream), cacheSrc: caches, saves: saves}
}

// newCheckpoint returns a checkpoint with a serial never given before.
func (x *Index) newCheckpoint() Checkpoint {
	x.serial++
	return Checkpoint{Serial: x.serial}
}

// Update brings the index to files, which the index then holds. It resumes
// from the latest checkpoint that the new bytes cannot have changed: a view
// depends on the files alone, so a line appended with an early timestamp
// is merged where it belongs, not at the end. A file that
// changed other than by an append — even to the same size, as its times
// tell — makes every checkpoint stale. The pass renders the view in slot warm (none if < 0)
// into the render cache as it goes.
func (x *Index) Update(files *chain.FileSet, warm int) error {
	return x.UpdateAlong(files, warm, nil)
}

// UpdateAlong is Update for the index of a stream other than the full
// merge, given full, the sandbox's index of the full merge (nil if none):
// when full holds the record of exactly files, a pass of a small chain
// takes its entries from it (Record.derive) instead of parsing the files.
func (x *Index) UpdateAlong(files *chain.FileSet, warm int, full *Index) error {
	rewritten := x.files != nil && (chain.AnyChanged(x.Wit.Changed(files)) || chain.RewrittenAtSize(x.files, files))
	if x.files != nil && !rewritten && x.files.SameAs(files) {
		files.Release()
		return nil
	}
	x.rec, x.tried = nil, false // of other files: the segments made from it keep it
	wit := chain.TakeWitness(files)
	if x.files == nil && x.restore(files, wit) {
		return nil
	}
	from := 0
	if x.files != nil && !rewritten && !x.mustRebuild(files) {
		from = x.resumePoint(files)
	}
	x.sess.truncate(from + 1)
	if x.files == nil || from == 0 {
		x.sess.truncate(0)
		cp := x.newCheckpoint()
		cp.RunMax = chain.MinKey
		x.Cps = []Checkpoint{cp}
		x.Cache.Release() // the snapshots that use it hold their own references
		x.Cache = x.cacheSrc.NewCache()
	} else if from < len(x.Cps)-1 {
		x.Cps = append([]Checkpoint(nil), x.Cps[:from+1]...) // snapshots may hold the old array
	} else {
		x.Cps = x.Cps[: from+1 : from+1]
	}
	err := x.run(files, warm, full)
	x.files.Release()
	x.files, x.Wit = files, wit
	if err != nil { // rebuild at the next update rather than keep a broken index
		x.files.Release()
		x.files, x.Wit = nil, nil
		return err
	}
	x.save(from == 0)
	return nil
}

// mustRebuild reports whether files dropped the oldest exec file or
// replaced or truncated a text log: every checkpoint is then stale.
func (x *Index) mustRebuild(files *chain.FileSet) bool {
	old := x.files
	if len(old.Chain) > 0 && (len(files.Chain) == 0 || files.Chain[0].Gen != old.Chain[0].Gen) {
		return true
	}
	for o := logline.OriginRuntime; o < logline.NumOrigins; o++ {
		a, b := old.Text[o], files.Text[o]
		if len(a) == 1 && (len(b) == 0 || b[0].Gen != a[0].Gen || b[0].Size < a[0].Size) {
			return true
		}
	}
	return false
}

// resumePoint returns the checkpoint to resume from: the last one, unless an
// origin's first new entry sorts before entries merged after it.
func (x *Index) resumePoint(files *chain.FileSet) int {
	from := len(x.Cps) - 1
	for o := range logline.NumOrigins {
		if o != logline.OriginExec && !x.stream.TextOrigins() {
			continue
		}
		k, has, ok := chain.FirstKey(files, o, x.stream, x.End.Cursor[o], x.End.Prev[o])
		if !ok {
			return 0
		}
		if !has {
			continue
		}
		c := sort.Search(len(x.Cps), func(i int) bool { return k.Less(x.Cps[i].RunMax) })
		if c < len(x.Cps) {
			from = min(from, max(c-1, 0))
		}
	}
	return from
}

// run merges from the last checkpoint to the end of files, rendering the
// view in slot warm into the render cache; full is as for UpdateAlong.
func (x *Index) run(files *chain.FileSet, warm int, full *Index) error {
	cp := x.Cps[len(x.Cps)-1]
	derived := x.derivedFrom(full, files, cp.State)
	// The merge is the pass's own: an index between passes, and every
	// summary of a parked one, holds no merger and no read buffer.
	m := new(feed)
	defer m.drop()
	rec, err := x.startPass(m, files, &cp, &warm, derived)
	if err != nil {
		return err
	}
	start := *m.state() // with any text origin restarted
	x.warm.start(x.Views, warm, x.Cache, cp.Serial)
	defer x.warm.done()
	x.Total = cp.Offs
	x.ids.reset()
	tally := x.stream == logline.MaskAll
	var size [MaxTracked]int64
	runMax := cp.RunMax
	counts := func() chain.Counts { c := cp.counts; c.Add(m.Counts()); return c }
	var mark int64
	for {
		e, ok := m.Next()
		if !ok {
			break
		}
		st := m.state()
		k := chain.Key{Time: e.Time, Origin: e.Origin}
		var bs logline.BodyStats
		if _, sized := e.MeasuredSize(logline.FormatRaw); !sized {
			bs = e.BodyStats()
		}
		for i, v := range x.Views {
			size[i] = 0
			if v.Includes(e) {
				n := render.SizeIn(v.Format, e, &bs)
				if i == warm {
					x.warm.add(e, n, &st.Cursor)
				}
				x.Total[i] += n
				size[i] = n
			}
		}
		if tally && e.HasID {
			x.ids.add(e, &size)
		}
		if runMax.Less(k) {
			runMax = k
		}
		if rec != nil && !rec.add(e, st.Cursor[e.Origin]) {
			rec.discard()
			rec = nil
		}
		if m.Read()-mark >= CheckpointEvery {
			mark = m.Read()
			cp := x.newCheckpoint()
			cp.State, cp.Offs, cp.RunMax, cp.counts = *st, x.Total, runMax, counts()
			cp.IDs = x.ids.take()
			x.Cps = append(x.Cps, cp)
			if warm >= 0 {
				x.warm.checkpoint(cp.Serial, cp.Offs[warm]-x.Cps[len(x.Cps)-2].Offs[warm])
			}
		}
	}
	x.End, x.Counts = m.m.Drained(), counts()
	if derived != nil {
		x.End, x.Counts = derivedEnd(*m.state(), full.End), full.Counts
	}
	x.Tail = x.ids.take()
	x.ids.reset()
	x.sess.changed()
	err = m.Err()
	switch {
	case derived != nil:
		x.rec = filled(derived)
	case err == nil && rec != nil && len(x.Cps) == 1:
		x.rec = filled(rec.finish(start))
	default:
		rec.discard()
	}
	return err
}

// startPass positions m, the pass's merge, at cp over files: in derived if there is
// one, else in a merge of the files, which records into the scratch it
// returns when the chain is small. It turns warm off where the pass
// would store no chunk (a small chain has no second checkpoint).
func (x *Index) startPass(m *feed, files *chain.FileSet, cp *Checkpoint, warm *int, derived *Record) (*Record, error) {
	x.tried = x.tried || len(x.Cps) == 1
	if derived != nil {
		*warm = -1
		m.replayAll(derived)
		return nil, nil
	}
	var rec *Record // a scratch of the pass
	if len(x.Cps) == 1 {
		rec = newRecord(files, x.stream)
	}
	var keep logline.SourceMask // the bodies the pass renders or records
	if rec != nil {
		keep, *warm = logline.MaskAll, -1
	} else if *warm >= 0 {
		keep = x.Views[*warm].Mask
	}
	m.m.AllowAheadSized(keep, render.MeasureSizes) // run ends with drop
	m.replay = false
	if err := m.m.Reset(files, x.stream, cp.State); err != nil {
		rec.discard()
		return nil, err
	}
	return rec, nil
}

// Segment returns a snapshot of view v over the index as it stands.
func (x *Index) Segment(v render.View) *Segment {
	if v.ByID {
		return x.sessionSegment(v)
	}
	slot := TrackedIndex(v)
	x.Cache.Acquire()
	return &Segment{view: v, slot: slot, files: x.files.Clone(), Wit: x.Wit, Cps: x.Cps[:len(x.Cps):len(x.Cps)],
		Size: x.Total[slot], Cache: x.Cache, m: feed{slot: x.lazySlot()}}
}

// Release drops the index's files and its reference to its render cache.
func (x *Index) Release() {
	x.files.Release()
	x.files = nil
	x.rec = nil
	x.Cache.Release()
	x.Cache = nil
}
