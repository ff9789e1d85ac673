package engine

import (
	"errors"
	"fmt"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// batch is what one pass over newly appended lines produced: a segment of
// one view in arrival order, the state after it, and the range of keys it
// merged.
type batch struct {
	seg      *segment
	end      State
	min, max chain.Key
	entries  int
	restart  bool // a text log was replaced or truncated: it began again
}

// runBatch merges everything after start up to the bounds of files and
// measures view v of it; wit is the witness of the files start was reached
// in. It takes ownership of files.
func runBatch(v View, files *chain.FileSet, start State, wit *chain.Witness) (*batch, error) {
	seg := &segment{view: v, files: files, wit: chain.TakeWitness(files), cps: []checkpoint{{state: start, runMax: chain.MinKey}}}
	from := chain.RestartRewritten(wit, files, start)
	var m chain.Merger
	if err := m.Reset(files, v.Stream(), from); err != nil {
		files.Release()
		var g *chain.ErrGeneration
		if errors.As(err, &g) {
			return nil, fmt.Errorf("%w (%v)", ErrMissedRotation, err)
		}
		return nil, err
	}
	b := &batch{seg: seg, min: maxKey, max: chain.MinKey, restart: m.State != start}
	seg.cps[0].state = m.State // with any restarted text origin at its start
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
		if b.max.Less(k) {
			b.max = k
		}
		b.entries++
		if v.Includes(e) {
			st := e.BodyStats()
			seg.size += render.SizeOf(v.Format, e, &st)
		}
		if m.Read()-mark >= checkpointEvery {
			mark = m.Read()
			seg.cps = append(seg.cps, checkpoint{state: m.State, offs: [maxTracked]int64{seg.size}, runMax: b.max})
		}
	}
	b.end = m.Drained()
	if err := m.Err(); err != nil {
		seg.release()
		return nil, err
	}
	return b, nil
}

// canAppend reports whether b can be read as the continuation of seg within
// one segment: every key of b sorts at or after seg's, so the merge over both
// equals seg followed by b, and b's files still hold every file seg reads.
func canAppend(seg *segment, segMax chain.Key, b *batch) bool {
	if b.restart || b.min.Less(segMax) {
		return false
	}
	start := seg.cps[0].state
	for o := range logline.NumOrigins {
		p := start.Cursor[o]
		if p.IsStart() {
			continue
		}
		found := false
		for _, f := range b.seg.files.Origin(o) {
			found = found || f.Gen == p.Gen
		}
		if !found {
			return false
		}
	}
	return true
}

// appendBatch extends seg with b, taking b's files. The join becomes a
// checkpoint when the last one is far behind, so that a long-lived follower
// built of many small batches can still be read anywhere cheaply.
func appendBatch(seg *segment, b *batch) {
	seg.mu.Lock()
	defer seg.mu.Unlock()
	if seg.size-seg.cps[len(seg.cps)-1].offs[0] >= checkpointEvery {
		join := b.seg.cps[0]
		join.offs[0] = seg.size
		seg.cps = append(seg.cps, join)
	}
	for _, cp := range b.seg.cps[1:] {
		cp.offs[0] += seg.size
		seg.cps = append(seg.cps, cp)
	}
	seg.size += b.seg.size
	seg.files.Release()
	seg.files, seg.wit = b.seg.files, b.seg.wit
	seg.ready = false
}
