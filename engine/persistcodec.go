package engine

import (
	"encoding/binary"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// savedIndex is what an index file holds besides its key.
type savedIndex struct {
	cps    []checkpoint
	end    State
	total  [maxTracked]int64
	counts chain.Counts
	tail   []idStat // the sessions after the last checkpoint
}

// The encoding is a sequence of varints (encoding/binary's): unsigned for
// counts, positions and sizes, signed for the seconds of a time. The least
// bytes an item takes (one per varint) bound the counts read back.
const (
	minTimeLen       = 2
	minStateLen      = int(logline.NumOrigins) * (2 + minTimeLen)
	minCountsLen     = 3
	minCheckpointLen = 1 + minStateLen + maxTracked + minTimeLen + 1 + minCountsLen
	minIDStatLen     = 3 + maxTracked + 2*minTimeLen + 1
)

func appendTime(b []byte, t Time) []byte {
	b = binary.AppendVarint(b, t.Sec)
	return binary.AppendUvarint(b, uint64(t.Nsec))
}

func appendState(b []byte, st *State) []byte {
	for _, p := range st.Cursor {
		b = binary.AppendUvarint(b, p.Gen)
		b = binary.AppendUvarint(b, p.Offset)
	}
	for _, t := range st.Prev {
		b = appendTime(b, t)
	}
	return b
}

func appendCounts(b []byte, c chain.Counts) []byte {
	for _, n := range [3]int{c.Malformed, c.TooLong, c.Empty} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

// encodeIndex appends x to b.
func encodeIndex(b []byte, x *savedIndex) []byte {
	b = binary.AppendUvarint(b, uint64(len(x.cps)))
	for i := range x.cps {
		cp := &x.cps[i]
		b = binary.AppendUvarint(b, cp.serial)
		b = appendState(b, &cp.state)
		for _, o := range cp.offs {
			b = binary.AppendUvarint(b, uint64(o))
		}
		b = appendTime(b, cp.runMax.Time)
		b = append(b, byte(cp.runMax.Origin))
		b = appendCounts(b, cp.counts)
	}
	b = appendState(b, &x.end)
	for _, t := range x.total {
		b = binary.AppendUvarint(b, uint64(t))
	}
	b = appendCounts(b, x.counts)
	for i := range x.cps {
		b = appendIDs(b, x.cps[i].ids)
	}
	return appendIDs(b, x.tail)
}

// appendIDs appends a count and the stats of one interval's sessions.
func appendIDs(b []byte, ids []idStat) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for i := range ids {
		st := &ids[i]
		b = binary.AppendUvarint(b, st.id)
		b = binary.AppendUvarint(b, uint64(st.entries))
		b = binary.AppendUvarint(b, uint64(st.bytes))
		for _, n := range st.size {
			b = binary.AppendUvarint(b, uint64(n))
		}
		b = appendTime(b, st.first)
		b = appendTime(b, st.last)
		b = append(b, byte(st.sources))
	}
	return b
}

// decoder reads the encoding from b at off; ok turns false at the first
// value that does not fit.
type decoder struct {
	b     []byte
	off   int
	ok    bool
	spare []idStat // made in blocks: one allocation per interval was a third of a restore
}

func (d *decoder) u64() uint64 {
	if !d.ok {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.ok = false
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) i64() int64 {
	v := d.u64()
	if int64(v) < 0 {
		d.ok = false
	}
	return int64(v)
}

func (d *decoder) time() Time {
	if !d.ok {
		return Time{}
	}
	sec, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.ok = false
		return Time{}
	}
	d.off += n
	nsec := d.u64()
	if nsec >= 2e9 {
		d.ok = false
	}
	return Time{Sec: sec, Nsec: uint32(nsec)}
}

func (d *decoder) state() (st State) {
	for o := range st.Cursor {
		st.Cursor[o] = logline.Pos{Gen: d.u64(), Offset: d.u64()}
		if int64(st.Cursor[o].Offset) < 0 {
			d.ok = false
		}
	}
	for o := range st.Prev {
		st.Prev[o] = d.time()
	}
	return st
}

func (d *decoder) counts() chain.Counts {
	return chain.Counts{Malformed: int(d.i64()), TooLong: int(d.i64()), Empty: int(d.i64())}
}

// decodeIndex decodes b, checking every count and range: the number of
// checkpoints against the bytes there are, serials increasing, every
// view's offsets not decreasing and within its total.
func decodeIndex(b []byte) (x savedIndex, ok bool) {
	d := decoder{b: b, ok: true}
	n := d.u64()
	fixed := uint64(minStateLen + maxTracked + minCountsLen)
	if !d.ok || n == 0 || n > uint64(len(b))/uint64(minCheckpointLen) || uint64(len(b)-d.off) < n*uint64(minCheckpointLen)+fixed {
		return x, false
	}
	x.cps = make([]checkpoint, n)
	for i := range x.cps {
		cp := &x.cps[i]
		cp.serial = d.u64()
		cp.state = d.state()
		for v := range cp.offs {
			cp.offs[v] = d.i64()
		}
		cp.runMax.Time = d.time()
		if d.ok && d.off < len(b) {
			cp.runMax.Origin = logline.Origin(b[d.off])
			d.off++
		}
		cp.counts = d.counts()
		if !d.ok || cp.runMax.Origin > logline.NumOrigins || (i > 0 && !checkpointAfter(&x.cps[i-1], cp)) {
			return x, false
		}
	}
	x.end = d.state()
	for v := range x.total {
		x.total[v] = d.i64()
		if x.total[v] < x.cps[n-1].offs[v] {
			return x, false
		}
	}
	x.counts = d.counts()
	for i := range x.cps {
		var room [maxTracked]int64 // the interval's size in each view
		if i > 0 {
			room = subSizes(x.cps[i].offs, x.cps[i-1].offs)
		}
		x.cps[i].ids = d.ids(room)
	}
	x.tail = d.ids(subSizes(x.total, x.cps[n-1].offs))
	return x, d.ok && d.off == len(b) && x.cps[0].serial > 0 && x.cps[0].offs == [maxTracked]int64{} && len(x.cps[0].ids) == 0
}

func subSizes(a, b [maxTracked]int64) [maxTracked]int64 {
	for v := range a {
		a[v] -= b[v]
	}
	return a
}

// ids decodes one interval's sessions: a count within the bytes there
// are, ids strictly increasing, at least one entry each, sources of
// exec.log only, sizes within the interval's size in each view.
func (d *decoder) ids(room [maxTracked]int64) []idStat {
	n := d.u64()
	if !d.ok || n > uint64(len(d.b)-d.off)/uint64(minIDStatLen) {
		d.ok = false
		return nil
	}
	if n == 0 {
		return nil
	}
	if uint64(len(d.spare)) < n {
		d.spare = make([]idStat, max(n, 512))
	}
	ids := d.spare[:n:n]
	d.spare = d.spare[n:]
	for i := range ids {
		st := &ids[i]
		st.id, st.entries, st.bytes = d.u64(), d.i64(), d.i64()
		for v := range st.size {
			st.size[v] = d.i64()
			if st.size[v] > room[v] {
				d.ok = false
			}
		}
		st.first, st.last = d.time(), d.time()
		if d.ok && d.off < len(d.b) {
			st.sources = SourceMask(d.b[d.off])
			d.off++
		}
		if !d.ok || st.entries < 1 || st.sources == 0 || st.sources&^MaskAll != 0 || (i > 0 && st.id <= ids[i-1].id) {
			d.ok = false
			return nil
		}
	}
	return ids
}

// checkpointAfter reports whether b can follow a in one index.
func checkpointAfter(a, b *checkpoint) bool {
	if b.serial <= a.serial {
		return false
	}
	for v := range a.offs {
		if b.offs[v] < a.offs[v] {
			return false
		}
	}
	return true
}
