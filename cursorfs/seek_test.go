package cursorfs

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// jsonLines splits merged.jsonl into objects.
func jsonLines(t testing.TB, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.SplitAfter(data, []byte{'\n'}) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func writeOK(t testing.TB, s *seekHandle, line string) {
	t.Helper()
	if _, err := s.Write([]byte(line)); err != nil {
		t.Fatalf("write %q: %v", line, err)
	}
}

func TestSeekStartsAtStartAndEqualsMergedJSONL(t *testing.T) {
	b := newBox(t, "box", 300, 8<<10)
	s := openSeek(b.sb)
	got := readSeek(t, s)
	if want := engineBytes(t, b.sb, engine.ViewMergedJSON); !bytes.Equal(got, want) {
		t.Fatalf("seek from start: %d bytes, merged.jsonl %d", len(got), len(want))
	}
	b.write(2)
	more := jsonLines(t, readSeek(t, s))
	if len(more) != 2 || more[1]["d"] != line(301) {
		t.Fatalf("reads after appends: %v", more)
	}
}

func TestSeekCursorResumesAfterIt(t *testing.T) {
	b := newBox(t, "box", 50, 0)
	s := openSeek(b.sb)
	all := jsonLines(t, readSeek(t, s))
	for _, k := range []int{0, 10, len(all) - 2} {
		writeOK(t, s, all[k]["cursor"].(string)+"\n")
		rest := jsonLines(t, readSeek(t, s))
		if len(rest) != len(all)-k-1 || rest[0]["cursor"] != all[k+1]["cursor"] {
			t.Fatalf("after cursor %d: %d entries, want %d", k, len(rest), len(all)-k-1)
		}
	}
}

func TestSeekBadLinesKeepPosition(t *testing.T) {
	b := newBox(t, "box", 20, 0)
	other := newBox(t, "other", 5, 0)
	foreign, err := other.sb.EndCursor()
	must(t, err)
	s := openSeek(b.sb)
	all := jsonLines(t, readSeek(t, s))
	writeOK(t, s, all[4]["cursor"].(string))
	for _, bad := range []string{"", "\n", "garbage\n", "AAAA\n", foreign.String() + "\n", "2026-13-45T99:00:00Z\n", "start\nend\n", "yesterday",
		"end\nstart\n", "start\n\n", "\nstart\n", "start\r\nend", all[0]["cursor"].(string) + "\n" + all[9]["cursor"].(string) + "\n"} {
		_, err := s.Write([]byte(bad))
		if Errno(err) != 22 { // EINVAL
			t.Fatalf("write %q: %v, want EINVAL", bad, err)
		}
	}
	rest := jsonLines(t, readSeek(t, s))
	if len(rest) != len(all)-5 || rest[0]["cursor"] != all[5]["cursor"] {
		t.Fatalf("position moved by bad writes: %d entries left, want %d", len(rest), len(all)-5)
	}
}

func TestSeekStartEndTime(t *testing.T) {
	b := newBox(t, "box", 0, 0)
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := range 10 {
		must(t, b.w.Exec(msbwriter.Chunk{Time: base.Add(time.Duration(i) * time.Second), Source: "stderr", Data: []byte{byte('a' + i), '\n'}}))
	}
	s := openSeek(b.sb)
	writeOK(t, s, "end\n")
	if got := readSeek(t, s); len(got) != 0 {
		t.Fatalf("read at end: %q", got)
	}
	must(t, b.w.Exec(msbwriter.Chunk{Time: base.Add(time.Minute), Source: "stdout", Data: []byte("new\n")}))
	if got := jsonLines(t, readSeek(t, s)); len(got) != 1 || got[0]["d"] != "new\n" {
		t.Fatalf("after end and an append: %v", got)
	}
	writeOK(t, s, "2026-05-01T12:00:03.500+02:00\n") // 10:00:03.5Z
	got := jsonLines(t, readSeek(t, s))
	if len(got) == 0 || got[0]["d"] != "e\n" {
		t.Fatalf("after a time: %v", got)
	}
	writeOK(t, s, "start")
	if got := jsonLines(t, readSeek(t, s)); len(got) < 11 {
		t.Fatalf("after start: %d entries", len(got))
	}
}

func TestSeekBadPositionError(t *testing.T) {
	b := newBox(t, "box", 1, 0)
	_, err := openSeek(b.sb).Write([]byte("nonsense"))
	if !errors.Is(err, engine.ErrInvalidCursor) && !errors.Is(err, errBadPosition) {
		t.Fatalf("error %v wraps neither ErrInvalidCursor nor errBadPosition", err)
	}
}
