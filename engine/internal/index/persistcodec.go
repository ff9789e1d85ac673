package index

import (
	"encoding/binary"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// SavedIndex is what an index file holds besides its key.
type SavedIndex struct {
	Cps    []Checkpoint
	End    chain.State
	Total  [MaxTracked]int64
	Counts chain.Counts
	Tail   []IDStat // the sessions after the last checkpoint
}

// The encoding is a sequence of varints (encoding/binary's): unsigned for
// counts, positions and sizes, signed for the seconds of a time. The least
// bytes an item takes (one per varint) bound the counts read back.
const (
	minTimeLen       = 2
	minStateLen      = int(logline.NumOrigins) * (2 + minTimeLen)
	minCountsLen     = 3
	minCheckpointLen = 1 + minStateLen + MaxTracked + minTimeLen + 1 + minCountsLen
	minIDStatLen     = 3 + MaxTracked + 2*minTimeLen + 1
)

func appendTime(b []byte, t logline.Time) []byte {
	b = binary.AppendVarint(b, t.Sec)
	return binary.AppendUvarint(b, uint64(t.Nsec))
}

func appendState(b []byte, st *chain.State) []byte {
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

// EncodeIndex appends x to b.
func EncodeIndex(b []byte, x *SavedIndex) []byte {
	b = binary.AppendUvarint(b, uint64(len(x.Cps)))
	for i := range x.Cps {
		cp := &x.Cps[i]
		b = binary.AppendUvarint(b, cp.Serial)
		b = appendState(b, &cp.State)
		for _, o := range cp.Offs {
			b = binary.AppendUvarint(b, uint64(o))
		}
		b = appendTime(b, cp.RunMax.Time)
		b = append(b, byte(cp.RunMax.Origin))
		b = appendCounts(b, cp.counts)
	}
	b = appendState(b, &x.End)
	for _, t := range x.Total {
		b = binary.AppendUvarint(b, uint64(t))
	}
	b = appendCounts(b, x.Counts)
	for i := range x.Cps {
		b = appendIDs(b, x.Cps[i].IDs)
	}
	return appendIDs(b, x.Tail)
}

// appendIDs appends a count and the stats of one interval's sessions.
func appendIDs(b []byte, ids []IDStat) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for i := range ids {
		st := &ids[i]
		b = binary.AppendUvarint(b, st.ID)
		b = binary.AppendUvarint(b, uint64(st.Entries))
		b = binary.AppendUvarint(b, uint64(st.Bytes))
		for _, n := range st.Size {
			b = binary.AppendUvarint(b, uint64(n))
		}
		b = appendTime(b, st.First)
		b = appendTime(b, st.Last)
		b = append(b, byte(st.Sources))
	}
	return b
}

// decoder reads the encoding from b at off; ok turns false at the first
// value that does not fit.
type decoder struct {
	b     []byte
	off   int
	ok    bool
	spare []IDStat // made in blocks, not one allocation per interval
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

func (d *decoder) time() logline.Time {
	if !d.ok {
		return logline.Time{}
	}
	sec, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.ok = false
		return logline.Time{}
	}
	d.off += n
	nsec := d.u64()
	if nsec >= 2e9 {
		d.ok = false
	}
	return logline.Time{Sec: sec, Nsec: uint32(nsec)}
}

func (d *decoder) state() (st chain.State) {
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

// DecodeIndex decodes b, checking every count and range: the number of
// checkpoints against the bytes there are, serials increasing, every
// view's offsets not decreasing and within its total.
func DecodeIndex(b []byte) (x SavedIndex, ok bool) {
	d := decoder{b: b, ok: true}
	n := d.u64()
	fixed := uint64(minStateLen + MaxTracked + minCountsLen)
	if !d.ok || n == 0 || n > uint64(len(b))/uint64(minCheckpointLen) || uint64(len(b)-d.off) < n*uint64(minCheckpointLen)+fixed {
		return x, false
	}
	x.Cps = make([]Checkpoint, n)
	for i := range x.Cps {
		cp := &x.Cps[i]
		cp.Serial = d.u64()
		cp.State = d.state()
		for v := range cp.Offs {
			cp.Offs[v] = d.i64()
		}
		cp.RunMax.Time = d.time()
		if d.ok && d.off < len(b) {
			cp.RunMax.Origin = logline.Origin(b[d.off])
			d.off++
		}
		cp.counts = d.counts()
		if !d.ok || cp.RunMax.Origin > logline.NumOrigins || (i > 0 && !CheckpointAfter(&x.Cps[i-1], cp)) {
			return x, false
		}
	}
	x.End = d.state()
	for v := range x.Total {
		x.Total[v] = d.i64()
		if x.Total[v] < x.Cps[n-1].Offs[v] {
			return x, false
		}
	}
	x.Counts = d.counts()
	for i := range x.Cps {
		var room [MaxTracked]int64 // the interval's size in each view
		if i > 0 {
			room = subSizes(x.Cps[i].Offs, x.Cps[i-1].Offs)
		}
		x.Cps[i].IDs = d.ids(room)
	}
	x.Tail = d.ids(subSizes(x.Total, x.Cps[n-1].Offs))
	return x, d.ok && d.off == len(b) && x.Cps[0].Serial > 0 && x.Cps[0].Offs == [MaxTracked]int64{} && len(x.Cps[0].IDs) == 0
}

func subSizes(a, b [MaxTracked]int64) [MaxTracked]int64 {
	for v := range a {
		a[v] -= b[v]
	}
	return a
}

// ids decodes one interval's sessions: a count within the bytes there
// are, ids strictly increasing, at least one entry each, sources of
// exec.log only, sizes within the interval's size in each view.
func (d *decoder) ids(room [MaxTracked]int64) []IDStat {
	n := d.u64()
	if !d.ok || n > uint64(len(d.b)-d.off)/uint64(minIDStatLen) {
		d.ok = false
		return nil
	}
	if n == 0 {
		return nil
	}
	if uint64(len(d.spare)) < n {
		d.spare = make([]IDStat, max(n, 512))
	}
	ids := d.spare[:n:n]
	d.spare = d.spare[n:]
	for i := range ids {
		st := &ids[i]
		st.ID, st.Entries, st.Bytes = d.u64(), d.i64(), d.i64()
		for v := range st.Size {
			st.Size[v] = d.i64()
			if st.Size[v] > room[v] {
				d.ok = false
			}
		}
		st.First, st.Last = d.time(), d.time()
		if d.ok && d.off < len(d.b) {
			st.Sources = logline.SourceMask(d.b[d.off])
			d.off++
		}
		if !d.ok || st.Entries < 1 || st.Sources == 0 || st.Sources&^logline.MaskAll != 0 || (i > 0 && st.ID <= ids[i-1].ID) {
			d.ok = false
			return nil
		}
	}
	return ids
}

// CheckpointAfter reports whether b can follow a in one index.
func CheckpointAfter(a, b *Checkpoint) bool {
	if b.Serial <= a.Serial {
		return false
	}
	for v := range a.Offs {
		if b.Offs[v] < a.Offs[v] {
			return false
		}
	}
	return true
}
