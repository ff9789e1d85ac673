package index

import (
	"errors"
	"fmt"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// Batch is what one pass over newly appended lines produced: a segment of
// one view in arrival order, the state after it, and the range of keys it
// merged.
type Batch struct {
	Seg      *Segment
	End      chain.State
	min, Max chain.Key
	Entries  int
	restart  bool // a text log was replaced or truncated: it began again
}

// RunBatch merges everything after start up to the bounds of files and
// measures view v of it; wit is the witness of the files start was reached
// in. It takes ownership of files.
func RunBatch(v render.View, files *chain.FileSet, start chain.State, wit *chain.Witness) (*Batch, error) {
	seg := &Segment{view: v, files: files, Wit: chain.TakeWitness(files), Cps: []Checkpoint{{State: start, RunMax: chain.MinKey}}}
	from := chain.RestartRewritten(wit, files, start)
	var m chain.Merger
	if err := m.Reset(files, v.Stream(), from); err != nil {
		files.Release()
		var g *chain.ErrGeneration
		if errors.As(err, &g) {
			return nil, fmt.Errorf("%w (%v)", chain.ErrMissedRotation, err)
		}
		return nil, err
	}
	b := &Batch{Seg: seg, min: MaxKey, Max: chain.MinKey, restart: m.State != start}
	seg.Cps[0].State = m.State // with any restarted text origin at its start
	var mark int64
	for {
		e, ok := m.Next()
		if !ok {
			break
		}
		k := chain.Key{Time: e.Time, Origin: e.Origin}
		if k.Less(b.min) {
			b.min = k
		}
		if b.Max.Less(k) {
			b.Max = k
		}
		b.Entries++
		if v.Includes(e) {
			st := e.BodyStats()
			seg.Size += render.SizeOf(v.Format, e, &st)
		}
		if m.Read()-mark >= CheckpointEvery {
			mark = m.Read()
			seg.Cps = append(seg.Cps, Checkpoint{State: m.State, Offs: [MaxTracked]int64{seg.Size}, RunMax: b.Max})
		}
	}
	b.End = m.Drained()
	if err := m.Err(); err != nil {
		seg.Release()
		return nil, err
	}
	return b, nil
}

// CanAppend reports whether b can be read as the continuation of seg within
// one segment: every key of b sorts at or after seg's, so the merge over both
// equals seg followed by b, and b's files still hold every file seg reads.
func CanAppend(seg *Segment, segMax chain.Key, b *Batch) bool {
	if b.restart || b.min.Less(segMax) {
		return false
	}
	start := seg.Cps[0].State
	for o := range logline.NumOrigins {
		p := start.Cursor[o]
		if p.IsStart() {
			continue
		}
		found := false
		for _, f := range b.Seg.files.Origin(o) {
			found = found || f.Gen == p.Gen
		}
		if !found {
			return false
		}
	}
	return true
}

// AppendBatch extends seg with b, taking b's files. The join becomes a
// checkpoint when the last one is far behind, so that a long-lived follower
// built of many small batches can still be read anywhere cheaply.
func AppendBatch(seg *Segment, b *Batch) {
	seg.mu.Lock()
	defer seg.mu.Unlock()
	if seg.Size-seg.Cps[len(seg.Cps)-1].Offs[0] >= CheckpointEvery {
		join := b.Seg.Cps[0]
		join.Offs[0] = seg.Size
		seg.Cps = append(seg.Cps, join)
	}
	for _, cp := range b.Seg.Cps[1:] {
		cp.Offs[0] += seg.Size
		seg.Cps = append(seg.Cps, cp)
	}
	seg.Size += b.Seg.Size
	seg.files.Release()
	seg.files, seg.Wit = b.Seg.files, b.Seg.Wit
	seg.m.slot, seg.m.rec = nil, nil // of the files seg held before
	seg.ready = false
}

// MaxKey never lets a batch join the snapshot segment, whose checkpoints
// belong to the shared index.
var MaxKey = chain.Key{Time: logline.TimeTop, Origin: logline.NumOrigins}
