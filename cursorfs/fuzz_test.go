package cursorfs

import (
	"bytes"
	"syscall"
	"testing"
)

// FuzzSeekWrite: a write to seek never panics; it either moves the handle
// or fails with EINVAL and leaves the position where it was. A write that
// is more than one line (an optional final "\n" or "\r\n" aside), empty,
// or longer than a position can be, always fails. Run it with
//
//	go test -run='^$' -fuzz='^FuzzSeekWrite$' -fuzztime=20s ./cursorfs/
func FuzzSeekWrite(f *testing.F) {
	b := newBox(f, "box", 5, 0)
	all := readSeek(f, openSeek(b.sb))
	first := jsonLines(f, all)[0]["cursor"].(string)
	for _, seed := range []string{"start\n", "end", "2026-05-01T10:00:00Z\n", first + "\n", first,
		"start\nend\n", "end\r\n", " start ", "\n", "", first + "\n" + first + "\n", "2026-13-01T00:00:00Z"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		s := openSeek(b.sb)
		defer s.Close()
		writeOK(t, s, first+"\n")
		in := append([]byte(nil), line...)
		_, err := s.Write(line)
		if !bytes.Equal(in, line) {
			t.Fatal("Write modified its input")
		}
		if err == nil {
			if !oneLine(line) {
				t.Fatalf("write %q accepted: not exactly one line", line)
			}
			_ = readSeek(t, s)
			return
		}
		if Errno(err) != syscall.EINVAL {
			t.Fatalf("write %q: %v (errno %d), want EINVAL", line, err, Errno(err))
		}
		rest := readSeek(t, s)
		if want := all[bytes.IndexByte(all, '\n')+1:]; !bytes.Equal(rest, want) {
			t.Fatalf("write %q failed but moved the position: %d bytes left, want %d", line, len(rest), len(want))
		}
	})
}

// oneLine reports whether p is one non-empty line: no line break but an
// optional final "\n" or "\r\n", and short enough to be a position.
func oneLine(p []byte) bool {
	p = bytes.TrimSuffix(bytes.TrimSuffix(p, []byte{'\n'}), []byte{'\r'})
	return len(bytes.TrimSpace(p)) > 0 && len(p) <= maxPositionLine && !bytes.ContainsAny(p, "\r\n")
}
