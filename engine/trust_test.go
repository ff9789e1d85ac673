package engine

import (
	"bytes"
	"fmt"
	"testing"
)

// checkEveryResume resumes after each entry of merged.jsonl, through a
// Reader and through a Scanner, and checks that each yields exactly the
// entries after it.
func checkEveryResume(t *testing.T, sb *Sandbox) {
	t.Helper()
	full := snap(t, sb, ViewMergedJSON)
	lines := bytes.SplitAfter(full, []byte{'\n'})
	lines = lines[:len(lines)-1]
	js := parseJSONL(t, full)
	for i, j := range js {
		c, err := ParseCursor(j.Cursor)
		if err != nil {
			t.Fatalf("entry %d: its own cursor: %v", i, err)
		}
		st, err := sb.StateAt(c)
		if err != nil {
			t.Fatalf("entry %d: StateAt(its cursor): %v", i, err)
		}
		what := fmt.Sprintf("resumed after entry %d of %d", i, len(js))
		compareBytes(t, what, readerAll(t, sb, ViewMergedJSON, st), bytes.Join(lines[i+1:], nil))
		got := scanEntries(t, sb, Query{Mask: MaskAll, From: st})
		if len(got) != len(js)-i-1 {
			t.Fatalf("%s by a Scanner: %d entries, want %d", what, len(got), len(js)-i-1)
		}
		for k, g := range got {
			if w := js[i+1+k]; g.body != w.body() || g.cursor != w.Cursor {
				t.Fatalf("%s by a Scanner: entry %d is %q %s, want %q %s", what, k, g.body, g.cursor, w.body(), w.Cursor)
			}
		}
	}
}

// scanned is an entry a Scanner yielded: its body and its cursor.
type scanned struct{ body, cursor string }

// scanEntries runs a Scanner of q once to the end of the files.
func scanEntries(t *testing.T, sb *Sandbox, q Query) []scanned {
	t.Helper()
	sc := sb.NewScanner(q)
	defer sc.Close()
	var out []scanned
	err := sc.Next(func(e *Entry, after *State) error {
		out = append(out, scanned{string(e.Body), after.Cursor.String()})
		return nil
	})
	if err != nil {
		t.Fatalf("Scanner.Next: %v", err)
	}
	return out
}

// stampOnlyLines are text lines that hold a timestamp and nothing else
// (issue 7 item 1): each once made the engine panic.
var stampOnlyLines = []string{
	"2026-05-01T10:00:03Z",
	"2026-05-01T10:00:03.5Z   ",
	"2026-05-01T10:00:03.6Z\t",
	"2026-05-01T10:00:04Z \x1b[0m",
	"\x1b[32m2026-05-01T10:00:05Z\x1b[0m",
	"   2026-05-01T10:00:06Z",
	"\t 2026-05-01T10:00:07Z \t",
	"after a stamp-only line",
}

// TestTextLineOnlyStamp: a text line that is only a timestamp is an entry
// with an empty body (its newline kept), in every view, with cursors that
// resume, in runtime.log and kernel.log alike.
func TestTextLineOnlyStamp(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "out\n"), jl(9000, "stderr", "late\n"))
	d.runtime(stampOnlyLines...)
	d.kernel(append([]string{"[    1.000000] boot"}, stampOnlyLines...)...)
	sb := d.open()
	views := checkViews(t, d, sb)
	var empty int
	for _, j := range parseJSONL(t, views["merged.jsonl"]) {
		if j.D == "\n" {
			empty++
		}
	}
	if want := 2 * (len(stampOnlyLines) - 1); empty != want {
		t.Errorf("%d entries with the body \"\\n\", want %d", empty, want)
	}
	if _, err := sb.EndCursor(); err != nil {
		t.Fatalf("EndCursor: %v", err)
	}
	checkEveryResume(t, sb)
}
