package chain

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// LineScanner reads complete lines from a sequence of files, each bounded by
// the size it had when the sequence was taken. It never reads past a file's
// bound, so what it yields depends only on the bytes below the bounds.
type LineScanner struct {
	files []FileRef
	idx   int   // current file
	off   int64 // file offset of the next unconsumed byte
	buf   []byte
	r, w  int   // unconsumed bytes are buf[r:w]; buf[r] is at file offset off
	err   error // first read error
	// TooLong counts the lines skipped for being longer than MaxLineLen.
	TooLong int
	// A scanner given a limit (limit, stopLong) reads only the lines that
	// start before offset stopOff of files[stopIdx], and stops before a line
	// longer than stopLong (> 0), setting long: a parse-ahead worker leaves
	// such a line to the merge's own reader.
	limited bool
	stopIdx int
	stopOff int64
	long    bool
	// stopLong is the longest line a limited scanner yields; 0: no bound
	// but MaxLineLen.
	stopLong int
	// mapped: buf is a read-only mapping of the current file
	// (useMapping), not a pooled buffer: fill reads nothing more, and
	// the buffer is never written to or given to a pool.
	mapped bool
}

// chunkPool recycles read buffers: a handle keeps one only while it reads.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, logline.ReadChunk); return &b }}

// releaseBuffer returns the read buffer to its pool; the scanner must be
// reset before its next use.
func (s *LineScanner) releaseBuffer() {
	if !s.mapped {
		putReadBuffer(s.buf)
	}
	s.buf, s.r, s.w, s.mapped = nil, 0, 0, false
}

// putReadBuffer gives a scanner's buffer back: a read chunk to chunkPool,
// a buffer grown for a long line to the size-class pools.
func putReadBuffer(b []byte) {
	if cap(b) == logline.ReadChunk {
		b = b[:logline.ReadChunk]
		chunkPool.Put(&b)
		return
	}
	logline.PutBuf(b)
}

// BufferCap returns the capacity of the scanner's read buffer.
func (s *LineScanner) BufferCap() int { return cap(s.buf) }

// Reset positions the scanner at offset off of files[idx].
func (s *LineScanner) Reset(files []FileRef, idx int, off int64) {
	if s.mapped {
		s.releaseBuffer()
	}
	s.files, s.idx, s.off = files, idx, off
	s.r, s.w = 0, 0
	s.err = nil
	s.limited, s.long, s.stopLong = false, false, 0
}

// limit bounds the scanner, after reset, to the lines that start before
// offset off of files[idx] and are at most long bytes (0: MaxLineLen).
func (s *LineScanner) limit(idx int, off int64, long int) {
	s.limited, s.stopIdx, s.stopOff, s.stopLong = true, idx, off, long
}

// useMapping makes the scanner, once reset and limited, read the current
// file from m, a mapping of its bytes from offset at (at most the
// scanner's offset) to the end of the last line it may yield or to the
// file's bound. The caller unmaps m after resetting or releasing the
// scanner.
func (s *LineScanner) useMapping(m []byte, at int64) {
	s.releaseBuffer()
	s.buf, s.r, s.w, s.mapped = m, int(s.off-at), len(m), true
}

// past reports whether the next line starts at or beyond the limit.
func (s *LineScanner) past() bool {
	return s.limited && (s.idx > s.stopIdx || s.idx == s.stopIdx && s.off >= s.stopOff)
}

// pos returns the position of the next unconsumed byte.
func (s *LineScanner) pos() logline.Pos {
	if s.idx >= len(s.files) {
		return logline.Pos{}
	}
	return logline.Pos{Gen: s.files[s.idx].Gen, Offset: uint64(s.off)}
}

// Next returns the next complete line with its newline, and the position
// just past it. ok is false at the end of the bounded files. The line aliases
// the scanner's buffer (or a copy of a rotated file's unterminated tail, given
// a newline) and may be modified in place by the caller until the next call.
func (s *LineScanner) Next() (line []byte, end logline.Pos, ok bool) {
	for s.idx < len(s.files) && !s.past() {
		if nl := bytes.IndexByte(s.buf[s.r:s.w], '\n'); nl >= 0 {
			if s.stopLong > 0 && nl > s.stopLong {
				s.long = true
				return nil, logline.Pos{}, false
			}
			line = s.buf[s.r : s.r+nl+1]
			s.r += nl + 1
			s.off += int64(nl + 1)
			if nl > logline.MaxLineLen {
				s.TooLong++
				continue
			}
			return line, s.pos(), true
		}
		if s.stopLong > 0 && s.w-s.r > s.stopLong {
			s.long = true
			return nil, logline.Pos{}, false
		}
		if s.fill() {
			continue
		}
		// No newline before the bound of this file, or of its mapping.
		if s.mapped && s.off+int64(s.w-s.r) < s.files[s.idx].Size {
			s.long = true // a line longer than the mapping holds
			return nil, logline.Pos{}, false
		}
		last := s.idx == len(s.files)-1
		if last {
			return nil, logline.Pos{}, false
		}
		if s.w > s.r { // a rotated file's unterminated tail: it can never grow
			line = append(s.buf[s.r:s.w:s.w], '\n') // a copy: the buffer may be full
			s.off += int64(s.w - s.r)
			s.r = s.w
			return line, s.pos(), true
		}
		s.idx++
		s.off, s.r, s.w = 0, 0, 0
	}
	return nil, logline.Pos{}, false
}

// buffered returns the unconsumed bytes of the current file that the
// buffer holds (all below its bound), when the next line may be taken
// from them with take: else nil, and the caller uses next.
func (s *LineScanner) buffered() []byte {
	if s.idx >= len(s.files) || s.past() {
		return nil
	}
	return s.buf[s.r:s.w]
}

// take consumes the first n bytes of buffered(), a whole line with its
// newline that its caller found, and returns the position after it, as
// next would have; ok is false, and nothing is consumed, for a line that
// next would not yield as it is (longer than the scanner's bounds).
func (s *LineScanner) take(n int) (logline.Pos, bool) {
	if n-1 > logline.MaxLineLen || (s.stopLong > 0 && n-1 > s.stopLong) {
		return logline.Pos{}, false
	}
	s.r += n
	s.off += int64(n)
	return s.pos(), true
}

// fill reads more of the current file. It reports whether it made progress.
// A line longer than MaxLineLen is skipped here and counted.
func (s *LineScanner) fill() bool {
	if s.mapped {
		return false // the mapping holds every byte the scanner may read
	}
	f := s.files[s.idx]
	fileEnd := s.off + int64(s.w-s.r)
	if fileEnd >= f.Size || s.err != nil {
		return false
	}
	if s.w-s.r > logline.MaxLineLen {
		return s.skipLongLine()
	}
	s.compact()
	want := min(int64(len(s.buf)-s.w), f.Size-fileEnd)
	n, err := f.File.ReadAt(s.buf[s.w:s.w+int(want)], fileEnd)
	s.w += n
	if err != nil && err != io.EOF {
		s.err = fmt.Errorf("read %s: %w", f.File.Name(), err)
	}
	return n > 0 // n == 0: the file shrank below its bound; stop here
}

// compact moves unconsumed bytes to the front and makes room to read.
func (s *LineScanner) compact() {
	if s.r > 0 {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
	}
	if len(s.buf) == 0 {
		s.buf = (*chunkPool.Get().(*[]byte))[:logline.ReadChunk]
	}
	if len(s.buf)-s.w < logline.ReadChunk/2 {
		grown := logline.GetBuf(min(2*len(s.buf), logline.MaxLineLen+1+logline.ReadChunk))
		copy(grown, s.buf[:s.w])
		putReadBuffer(s.buf)
		s.buf = grown
	}
	if len(s.buf) > 4*logline.ReadChunk && s.w < logline.ReadChunk/2 { // shrink after a long line
		small := (*chunkPool.Get().(*[]byte))[:logline.ReadChunk]
		copy(small, s.buf[:s.w])
		putReadBuffer(s.buf)
		s.buf = small
	}
}

// skipLongLine drops the over-long line at s.r without loading the rest of
// it. If its newline is not yet within the bound, nothing is consumed.
func (s *LineScanner) skipLongLine() bool {
	f := s.files[s.idx]
	at := s.off + int64(s.w-s.r)
	var probe [logline.ReadChunk]byte
	for at < f.Size {
		n, err := f.File.ReadAt(probe[:min(int64(len(probe)), f.Size-at)], at)
		if nl := bytes.IndexByte(probe[:n], '\n'); nl >= 0 {
			s.off = at + int64(nl) + 1
			s.r, s.w = 0, 0
			s.TooLong++
			return true
		}
		at += int64(n)
		if err != nil || n == 0 {
			break
		}
	}
	if s.idx < len(s.files)-1 { // a rotated file ends the line
		s.off, s.r, s.w = f.Size, 0, 0
		s.TooLong++
		return true
	}
	return false
}
