package engine

import (
	"sort"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// index is the sparse index of one stream of a sandbox: checkpoints every
// few tens of KiB of input, and the size of every tracked view. It is built
// on first use and extended as the files grow. Not safe for concurrent use:
// the sandbox guards it.
type index struct {
	stream SourceMask
	views  []View
	files  *chain.FileSet // the bounds it describes
	wit    *chain.Witness // of files, taken before they were read
	cps    []checkpoint
	end    State // every complete line below the bounds consumed
	total  [maxTracked]int64
	counts chain.Counts // lines skipped below the bounds
	tail   []idStat     // the sessions after the last checkpoint, by id
	ids    idTally      // of the pass in progress
	sess   sessionAgg
	m      chain.Merger
	warm   warmer // renders the asked view during a pass

	cacheSrc *cacheStore  // where render caches come from; nil for none
	cache    *renderCache // rendered chunks of the current checkpoints (one reference)
	serial   uint64       // the last checkpoint serial given

	saves   *indexStore // where the index is saved; nil for nowhere
	savedAt int         // len(cps) at the last save or restore
}

func newIndex(stream SourceMask, caches *cacheStore, saves *indexStore) *index {
	return &index{stream: stream, views: trackedViews(stream), cacheSrc: caches, saves: saves}
}

// newCheckpoint returns a checkpoint with a serial never given before.
func (x *index) newCheckpoint() checkpoint {
	x.serial++
	return checkpoint{serial: x.serial}
}

// update brings the index to files, which the index then holds. It resumes
// from the latest checkpoint that the new bytes cannot have changed: SPEC §2
// makes a view a pure function of the files, so a line appended with an
// early timestamp is merged where it belongs, not at the end. A file that
// changed other than by an append — even to the same size — makes every
// checkpoint stale. The pass renders the view in slot warm (none if < 0)
// into the render cache as it goes.
func (x *index) update(files *chain.FileSet, warm int) error {
	rewritten := x.files != nil && chain.AnyChanged(x.wit.Changed(files))
	if x.files != nil && !rewritten && x.files.SameAs(files) {
		files.Release()
		return nil
	}
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
		cp.runMax = chain.MinKey
		x.cps = []checkpoint{cp}
		x.cache.release() // the snapshots that use it hold their own references
		x.cache = x.cacheSrc.newCache()
	} else if from < len(x.cps)-1 {
		x.cps = append([]checkpoint(nil), x.cps[:from+1]...) // snapshots may hold the old array
	} else {
		x.cps = x.cps[: from+1 : from+1]
	}
	err := x.run(files, warm)
	x.files.Release()
	x.files, x.wit = files, wit
	if err != nil { // rebuild at the next update rather than keep a broken index
		x.files.Release()
		x.files, x.wit = nil, nil
		return err
	}
	x.save(from == 0)
	return nil
}

// mustRebuild reports whether files dropped the oldest exec file or
// replaced or truncated a text log: every checkpoint is then stale.
func (x *index) mustRebuild(files *chain.FileSet) bool {
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
func (x *index) resumePoint(files *chain.FileSet) int {
	from := len(x.cps) - 1
	for o := range logline.NumOrigins {
		if o != logline.OriginExec && !x.stream.TextOrigins() {
			continue
		}
		k, has, ok := chain.FirstKey(files, o, x.stream, x.end.Cursor[o], x.end.Prev[o])
		if !ok {
			return 0
		}
		if !has {
			continue
		}
		c := sort.Search(len(x.cps), func(i int) bool { return k.Less(x.cps[i].runMax) })
		if c < len(x.cps) {
			from = min(from, max(c-1, 0))
		}
	}
	return from
}

// run merges from the last checkpoint to the end of files, rendering the
// view in slot warm into the render cache.
func (x *index) run(files *chain.FileSet, warm int) error {
	cp := x.cps[len(x.cps)-1]
	var keep SourceMask // the bodies the pass renders
	if warm >= 0 {
		keep = x.views[warm].Mask
	}
	x.m.AllowAheadSized(keep, render.MeasureSizes) // run ends with releaseBuffers
	if err := x.m.Reset(files, x.stream, cp.state); err != nil {
		return err
	}
	x.warm.start(x.views, warm, x.cache, cp.serial)
	defer x.warm.done()
	x.total = cp.offs
	x.ids.reset()
	tally := x.stream == MaskAll
	var size [maxTracked]int64
	runMax := cp.runMax
	counts := func() chain.Counts { c := cp.counts; c.Add(x.m.Counts()); return c }
	var mark int64
	for {
		e, ok := x.m.Next()
		if !ok {
			break
		}
		k := chain.Key{Time: e.Time, Origin: e.Origin}
		var st logline.BodyStats
		if _, sized := e.MeasuredSize(FormatRaw); !sized {
			st = e.BodyStats()
		}
		for i, v := range x.views {
			size[i] = 0
			if v.Includes(e) {
				n := render.SizeIn(v.Format, e, &st)
				if i == warm {
					x.warm.add(e, n, &x.m.State.Cursor)
				}
				x.total[i] += n
				size[i] = n
			}
		}
		if tally && e.HasID {
			x.ids.add(e, &size)
		}
		if runMax.Less(k) {
			runMax = k
		}
		if x.m.Read()-mark >= checkpointEvery {
			mark = x.m.Read()
			cp := x.newCheckpoint()
			cp.state, cp.offs, cp.runMax, cp.counts = x.m.State, x.total, runMax, counts()
			cp.ids = x.ids.take()
			x.cps = append(x.cps, cp)
			if warm >= 0 {
				x.warm.checkpoint(cp.serial, cp.offs[warm]-x.cps[len(x.cps)-2].offs[warm])
			}
		}
	}
	x.end = x.m.Drained()
	x.counts = counts()
	x.tail = x.ids.take()
	x.ids.reset()
	x.sess.changed()
	err := x.m.Err()
	x.m.ReleaseBuffers()
	x.m = chain.Merger{} // keep no buffer a long line grew while idle
	return err
}

// segment returns a snapshot of view v over the index as it stands.
func (x *index) segment(v View) *segment {
	if v.ByID {
		return x.sessionSegment(v)
	}
	slot := trackedIndex(v)
	x.cache.acquire()
	return &segment{view: v, slot: slot, files: x.files.Clone(), wit: x.wit, cps: x.cps[:len(x.cps):len(x.cps)],
		size: x.total[slot], cache: x.cache}
}
