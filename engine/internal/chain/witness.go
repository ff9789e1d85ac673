package chain

import (
	"bytes"
	"errors"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// WitnessLen is how many bytes below a file's bound a witness keeps.
const WitnessLen = 64

// ErrRewritten is returned by a read that must render again bytes of a
// file that was truncated or rewritten in place since they were shown: the
// bytes are gone from the disk.
var ErrRewritten = errors.New("a log file was rewritten in place since this handle was opened")

// Witness remembers the last bytes below the bound of every file of a
// FileSet. A file truncated and written again keeps its inode and may grow
// past its old size, which its inode and size alone cannot tell from an
// append: its witness can, because an append leaves every byte below the
// old bound in place. The witness is taken before the bytes it vouches for
// are read, so a rewrite racing with that read is seen at the next look.
// A rewrite that puts back the same WitnessLen bytes just below the old
// bound is taken for an append.
type Witness struct {
	marks []fileMark
}

// fileMark is one file's bound and the bytes just below it.
type fileMark struct {
	origin logline.Origin
	gen    uint64
	size   int64
	at     int64 // file offset of tail
	n      int   // bytes of tail known; fewer than size-at if a read failed
	tail   [WitnessLen]byte
}

// TakeWitness reads the witness of files.
func TakeWitness(files *FileSet) *Witness {
	w := &Witness{}
	for o := range logline.NumOrigins {
		for _, f := range files.Origin(o) {
			mk := fileMark{origin: o, gen: f.Gen, size: f.Size, at: max(f.Size-WitnessLen, 0)}
			mk.n, _ = f.File.ReadAt(mk.tail[:f.Size-mk.at], mk.at)
			w.marks = append(w.marks, mk)
		}
	}
	return w
}

// Changed reports, per origin, whether a file the witness saw is in files
// (by inode) but was not only appended to: it is smaller than its old
// bound, or the bytes below that bound differ. A file that left files is
// not changed: rotation and replacement are told by inode.
func (w *Witness) Changed(files *FileSet) (c [logline.NumOrigins]bool) {
	if w == nil {
		return c
	}
	var buf [WitnessLen]byte
	for i := range w.marks {
		mk := &w.marks[i]
		for _, f := range files.Origin(mk.origin) {
			if f.Gen != mk.gen {
				continue
			}
			if f.Size < mk.size {
				c[mk.origin] = true
				break
			}
			n, _ := f.File.ReadAt(buf[:mk.n], mk.at)
			if n != mk.n || !bytes.Equal(buf[:n], mk.tail[:mk.n]) {
				c[mk.origin] = true
			}
			break
		}
	}
	return c
}

// AnyChanged reports whether any origin of c changed.
func AnyChanged(c [logline.NumOrigins]bool) bool {
	return c[logline.OriginExec] || c[logline.OriginRuntime] || c[logline.OriginKernel]
}

// RestartRewritten returns st with every text origin whose file w saw was
// rewritten in place since moved to that origin's start: a truncated text
// log is read again from its start (docs/formats.md, "Bad input"). exec.log keeps its offset, as microsandbox's reader
// does.
func RestartRewritten(w *Witness, files *FileSet, st State) State {
	c := w.Changed(files)
	for o := logline.OriginRuntime; o < logline.NumOrigins; o++ {
		if c[o] {
			st.Cursor[o] = logline.Pos{}
		}
	}
	return st
}
