package engine

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// runMergeSized is runMerge for an index pass: parse-ahead yields sized
// entries that keep the bodies of keep's sources only.
func runMergeSized(t testing.TB, files *chain.FileSet, mask SourceMask, keep SourceMask) (steps []Entry, ahead bool) {
	t.Helper()
	var m chain.Merger
	defer m.ReleaseBuffers()
	m.AllowAheadSized(keep, render.MeasureSizes)
	if err := m.Reset(files, mask, State{}); err != nil {
		t.Fatal(err)
	}
	for {
		e, ok := m.Next()
		ahead = ahead || m.ParsingAhead()
		if !ok {
			break
		}
		c := *e
		c.Body = bytes.Clone(e.Body)
		steps = append(steps, c)
	}
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	return steps, ahead
}

// TestParseAheadSizedEntries: in an index pass, an entry parsed ahead
// carries the sizes of its renderings in every format, equal to what
// SizeOf gives for the serial merge's entry, and its body only where
// the pass keeps that source's bodies; it is otherwise the serial entry.
func TestParseAheadSizedEntries(t *testing.T) {
	testutil.WithAhead(t, testutil.AheadKnobs{Span: 97, BigLine: 300})
	d := hostileChain(t, 5, 2000)
	files, err := chain.OpenFileSet(d.open().table)
	if err != nil {
		t.Fatal(err)
	}
	defer files.Release()
	for _, keep := range []SourceMask{0, 1 << SourceStdout, MaskAll} {
		t.Run(fmt.Sprintf("keep%b", keep), func(t *testing.T) {
			want := testutil.RunMerge(t, files, MaskAll, State{}, false)
			got, ahead := runMergeSized(t, files, MaskAll, keep)
			if !ahead {
				t.Fatal("the merge never parsed ahead")
			}
			if len(got) != len(want.Steps) {
				t.Fatalf("%d entries, serial %d", len(got), len(want.Steps))
			}
			var sized int
			for i, g := range got {
				w := want.Steps[i].E
				if g.Time != w.Time || g.Source != w.Source || g.Origin != w.Origin || g.HasID != w.HasID || g.ID != w.ID {
					t.Fatalf("entry %d: %+v, serial %+v", i, g, w)
				}
				if _, sized := g.MeasuredSize(FormatRaw); !sized {
					if !bytes.Equal(g.Body, w.Body) {
						t.Fatalf("entry %d (not sized): body %q, serial %q", i, g.Body, w.Body)
					}
					continue
				}
				sized++
				st := w.BodyStats()
				for f := range Format(logline.NumFormats) {
					if n, got := render.SizeOf(f, &w, &st), measured(&g, f); got != n {
						t.Fatalf("entry %d: size %d in format %d, serial %d", i, got, f, n)
					}
				}
				if wantBody := keep.Has(g.Source); wantBody && !bytes.Equal(g.Body, w.Body) || !wantBody && len(g.Body) != 0 {
					t.Fatalf("entry %d (%v, keep %b): body %q, serial %q", i, g.Source, keep, g.Body, w.Body)
				}
				if g.RawLen() != int64(len(w.Body)) {
					t.Fatalf("entry %d: rawLen %d, body %d", i, g.RawLen(), len(w.Body))
				}
			}
			if sized == 0 {
				t.Fatal("no entry came sized")
			}
		})
	}
}

// TestIndexParsedAheadMatchesSerial: an index pass that parses ahead (its
// entries sized, bodies dropped) gives every view and session the sizes a
// serial pass gives, and reads back the same bytes.
func TestIndexParsedAheadMatchesSerial(t *testing.T) {
	d := hostileChain(t, 9, 2000)
	views := []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewStderr, ViewOutput, ViewSystem}
	serial := make(map[View][]byte)
	for _, v := range views {
		serial[v] = uncached(t, d, v)
	}
	sbSerial := d.openWith(func(h *Home) { h.SetCacheDir("") })
	wantSessions, err := sbSerial.Sessions()
	if err != nil {
		t.Fatal(err)
	}
	testutil.WithAhead(t, testutil.AheadKnobs{Span: 97, BigLine: 300})
	for _, v := range views {
		sb := d.openWith(func(h *Home) { h.SetCacheDir(t.TempDir()) })
		st, err := sb.Stat(v) // the pass that builds the index
		if err != nil {
			t.Fatal(err)
		}
		if st.Size != int64(len(serial[v])) {
			t.Fatalf("%v: stat %d after a pass parsed ahead, %d bytes serially", v, st.Size, len(serial[v]))
		}
		if got := snap(t, sb, v); !bytes.Equal(got, serial[v]) {
			t.Fatalf("%v: %d bytes read after a pass parsed ahead, %d serially", v, len(got), len(serial[v]))
		}
		gotSessions, err := sb.Sessions()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(gotSessions) != fmt.Sprint(wantSessions) {
			t.Fatalf("sessions after a pass parsed ahead:\n%v\nserially:\n%v", gotSessions, wantSessions)
		}
	}
}

// measured returns the size of e in format f that its parse measured.
func measured(e *Entry, f Format) int64 {
	n, _ := e.MeasuredSize(f)
	return n
}
