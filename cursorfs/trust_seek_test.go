package cursorfs

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/microsandbox/msb-logfs/engine"
)

// TestSeekAbsurdCursorEINVAL: writing a cursor whose exec position names
// exec.log with an offset of 2^63, past the end or inside a line fails with
// EINVAL and leaves the position unchanged (issue 7 item 3: the write
// succeeded and every read was EIO).
func TestSeekAbsurdCursorEINVAL(t *testing.T) {
	b := newBox(t, "box", 20, 0)
	fi, err := os.Stat(filepath.Join(b.w.LogsDir(), engine.ExecLogName))
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	s := openSeek(b.sb)
	all := readSeek(t, s)
	lines := bytes.SplitAfter(all, []byte{'\n'})
	first := jsonLines(t, lines[0])[0]["cursor"].(string)
	writeOK(t, s, first+"\n")
	for _, off := range []uint64{1 << 63, 1<<64 - 1, uint64(fi.Size()) + 1, 3} {
		c := engine.Cursor{{Gen: ino, Offset: off}}
		if _, err := s.Write([]byte(c.String() + "\n")); Errno(err) != syscall.EINVAL {
			t.Errorf("offset %d: write gave %v, want EINVAL", off, err)
		}
	}
	if got := readSeek(t, s); !bytes.Equal(got, bytes.Join(lines[1:], nil)) {
		t.Errorf("after the refused writes: %d bytes, want the %d after the first entry", len(got), len(all)-len(lines[0]))
	}
}

// TestSeekTimesWholeRange: seek takes every RFC 3339 time, leap seconds and
// years 0000–9999 included (time.Parse refused the leap second: EINVAL).
func TestSeekTimesWholeRange(t *testing.T) {
	b := newBox(t, "box", 5, 0)
	s := openSeek(b.sb)
	all := readSeek(t, s)
	for word, want := range map[string][]byte{
		"2016-12-31T23:59:60.5Z":    all,
		"0000-01-01T00:00:00Z":      all,
		"9999-12-31T23:59:60.999Z":  nil,
		"2016-12-31T23:59:60+01:00": all,
	} {
		writeOK(t, s, word+"\n")
		if got := readSeek(t, s); !bytes.Equal(got, want) {
			t.Errorf("from %s: %d bytes, want %d", word, len(got), len(want))
		}
	}
}
