package chain

import (
	"math"
	"os"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A parse-ahead worker reads its span through a read-only shared mapping
// of the file rather than pread: the parser reads the page cache in
// place, where pread would copy every byte out first. Only workers map:
// their scanner never writes to its buffer (the exec parser decodes into
// its own scratch), and a span's lines are all in one file.
//
// A mapped page past the file's current end faults (SIGBUS) when the file
// was truncated after its size was taken. The worker turns that fault into
// a panic (debug.SetPanicOnFault) that faults recovers: the span's
// lines from the last one it finished are then left to the merge's own
// reader, which reads them with pread as a serial read would, so a
// truncation meets exactly what it meets without parse-ahead.

// pageSize is the alignment of a mapping's offset.
var pageSize = int64(os.Getpagesize())

// spanMap is the mapping of the bytes a worker may read for one span.
type spanMap struct {
	data []byte // the file's bytes from offset at
	at   int64
}

// mapFaults counts the faults that parse-ahead workers recovered from.
var mapFaults atomic.Int64

// spanMapped, when not nil, is called with each span's file and range
// once it is mapped (tests truncate the file there).
var spanMapped func(f FileRef, from, to int64)

// mapSpan maps the bytes of f that the lines starting in [from, to) may
// span: from there to the end of a line of at most long bytes, within f's
// bound. ok is false when f cannot be mapped, or is shorter now than those
// bytes (rewritten in place): the worker then reads with pread, which
// stops where the file does, as a serial read does.
func mapSpan(f FileRef, from, to int64, long int) (spanMap, bool) {
	at := from &^ (pageSize - 1)
	end := min(f.Size, to+int64(long)+1)
	if from < 0 || end <= from || end-at > math.MaxInt32 {
		return spanMap{}, false
	}
	var data []byte
	withDescriptor(f, func(fd int) {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Size < end {
			return
		}
		data, _ = unix.Mmap(fd, at, int(end-at), unix.PROT_READ, unix.MAP_SHARED)
	})
	if data == nil {
		return spanMap{}, false
	}
	if spanMapped != nil {
		spanMapped(f, from, to)
	}
	return spanMap{data: data, at: at}, true
}

// withDescriptor runs fn with f's descriptor, which it holds open while fn
// runs: a file closed meanwhile (a test closes files under the workers to
// make a read fail) is not mapped, and the worker's pread then fails as it
// should. It does not run fn for a closed file.
func withDescriptor(f FileRef, fn func(fd int)) { f.File.control(fn) }

// unmap releases the mapping; nothing may read its bytes after.
func (m spanMap) unmap() {
	if m.data != nil {
		unix.Munmap(m.data)
	}
}

// faults runs f with the calling goroutine's memory faults turned into
// panics, and reports whether f ended with a fault in m (recovered). Any
// other panic goes on.
func (m spanMap) faults(f func()) (faulted bool) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if v := recover(); v != nil {
			if !m.holds(v) {
				panic(v)
			}
			faulted = true
			mapFaults.Add(1)
		}
	}()
	f()
	return false
}

// holds reports whether a recovered panic value is a memory fault within
// m.
func (m spanMap) holds(v any) bool {
	fault, ok := v.(interface{ Addr() uintptr })
	if !ok || len(m.data) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(&m.data[0]))
	return fault.Addr() >= start && fault.Addr()-start < uintptr(len(m.data))
}
