package engine

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestLongLinesInterleavedReaders: readers of several views, each
// growing its buffers for long lines and giving them back, read in
// alternation; each gets its own bytes (a buffer given back twice, or
// used after it was given back, would mix them up).
func TestLongLinesInterleavedReaders(t *testing.T) {
	d := newSandboxDir(t)
	var lines []string
	for i := range 40 {
		body := fmt.Sprintf("line %d\n", i)
		if i%5 == 0 {
			body = strings.Repeat(fmt.Sprintf("<%d>", i), 120<<10/4) + "\n" // 120 KiB and more: grown buffers
		}
		src := []string{"stdout", "stderr", "output"}[i%3]
		lines = append(lines, jl(int64(i), src, body))
	}
	d.exec(lines...)
	sb := d.open()
	views := []View{ViewMerged, ViewStdout, ViewStderr, ViewOutput, ViewMergedJSON}
	want := make([][]byte, len(views))
	for i, v := range views {
		want[i] = snap(t, sb, v)
	}
	for round := range 3 {
		snaps := make([]*Snapshot, len(views))
		got := make([]bytes.Buffer, len(views))
		for i, v := range views {
			s, err := sb.OpenSnapshot(v)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			snaps[i] = s
		}
		buf := make([]byte, 8<<10)
		for open := len(views); open > 0; {
			open = 0
			for i, s := range snaps {
				off := int64(got[i].Len())
				if off >= s.Size() {
					continue
				}
				open++
				n, err := s.ReadAt(buf, off)
				if err != nil && err != io.EOF {
					t.Fatal(err)
				}
				got[i].Write(buf[:n])
			}
		}
		for i := range views {
			if !bytes.Equal(got[i].Bytes(), want[i]) {
				t.Fatalf("round %d, %v: interleaved read differs from a read alone (%d against %d bytes)", round, views[i], got[i].Len(), len(want[i]))
			}
		}
	}
}
