package engine

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// namedView is a view with the name of its file.
type namedView struct {
	name string
	v    View
}

var allViews = []namedView{
	{"merged", ViewMerged},
	{"merged.jsonl", ViewMergedJSON},
	{"stdout", ViewStdout},
	{"stderr", ViewStderr},
	{"output", ViewOutput},
	{"system", ViewSystem},
}

// checkViews compares every view of sb, as a snapshot and as a Reader from
// the start, with the model of the files, and returns the views' bytes.
func checkViews(t *testing.T, d *tdir, sb *Sandbox) map[string][]byte {
	t.Helper()
	m := buildModel(t, d.logs)
	out := make(map[string][]byte)
	for _, nv := range allViews {
		st, err := sb.Stat(nv.v)
		if err != nil {
			t.Fatalf("Stat(%s): %v", nv.name, err)
		}
		full := snap(t, sb, nv.v)
		if st.Size != int64(len(full)) {
			t.Fatalf("%s: Stat size %d, a full read gives %d bytes", nv.name, st.Size, len(full))
		}
		if nv.v.Format == FormatJSON {
			compareJSONL(t, nv.name, parseJSONL(t, full), m.jsonl())
		} else {
			compareBytes(t, nv.name, full, m.render(nv.v))
		}
		compareBytes(t, nv.name+" through a Reader", readerAll(t, sb, nv.v, State{}), full)
		out[nv.name] = full
	}
	return out
}

// checkRandomReads compares n random ReadAt calls on a snapshot of v with
// the same slices of full.
func checkRandomReads(t *testing.T, sb *Sandbox, nv namedView, full []byte, rng *rand.Rand, n int) {
	t.Helper()
	s, err := sb.OpenSnapshot(nv.v)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Size() != int64(len(full)) {
		t.Fatalf("%s: snapshot size %d, want %d", nv.name, s.Size(), len(full))
	}
	for range n {
		off := rng.Int64N(int64(len(full)) + 1)
		size := 1 + rng.IntN(2*index.CheckpointEvery)
		if rng.IntN(4) == 0 {
			size = 1 + rng.IntN(64)
		}
		buf := make([]byte, size)
		c, err := s.ReadAt(buf, off)
		want := full[off:min(off+int64(size), int64(len(full)))]
		if !bytes.Equal(buf[:c], want) {
			t.Fatalf("%s: ReadAt(%d bytes at %d) = %d bytes differing from a full read (%q vs %q)",
				nv.name, size, off, c, tail(buf[:c], 60), tail(want, 60))
		}
		if c < size && err != io.EOF {
			t.Fatalf("%s: ReadAt(%d bytes at %d) = %d, %v: a short read must say io.EOF", nv.name, size, off, c, err)
		}
		if c == size && err != nil && err != io.EOF {
			t.Fatalf("%s: ReadAt(%d at %d): %v", nv.name, size, off, err)
		}
	}
}

// adversarySandbox writes about n bytes of the adversary corpus of seed,
// rotating at rotateAt and leaving partial last lines, and opens it with
// or without the render cache.
func adversarySandbox(t *testing.T, seed uint64, rotateAt int64, n int, noCache bool) (*tdir, *corpusGen, *Sandbox) {
	t.Helper()
	d := newSandboxDir(t)
	g := newCorpusGen(d, seed)
	g.RotateAt = rotateAt
	g.write(n, true)
	sb := d.openWith(func(h *Home) {
		if noCache {
			h.SetCacheDir("")
		}
	})
	return d, g, sb
}

// TestIndexProperty is the index property test: for random corpora, every
// view read at random offsets and sizes equals the same slice of a full
// read, which equals the reference model; after the files grow (with
// entries that sort both after and before the ones already merged, partial
// lines completed, rotations) the incrementally extended index still does,
// and equals a fresh Home opened on the same files. A snapshot opened
// before the growth keeps its bytes.
func TestIndexProperty(t *testing.T) {
	cases := []struct {
		seed     uint64
		rotateAt int64
		grow     int
		noCache  bool // render every read: no render cache
	}{
		{1, 1 << 30, 30 << 10, false},  // one exec file: incremental extension
		{2, 1 << 30, 100 << 10, true},  // idem, bigger growth
		{3, 64 << 10, 30 << 10, true},  // a few rotations inside the chain
		{4, 20 << 10, 60 << 10, false}, // the chain drops files: rebuilds
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint("seed", tc.seed), func(t *testing.T) {
			t.Parallel()
			d, g, sb := adversarySandbox(t, tc.seed, tc.rotateAt, 160<<10, tc.noCache)
			rng := rand.New(rand.NewPCG(tc.seed, 99))
			views := checkViews(t, d, sb)
			if n := len(sb.indexes[MaskAll].Cps); n < 3 {
				t.Fatalf("only %d checkpoints: the corpus does not exercise the index", n)
			}
			var held []*Snapshot
			for _, nv := range allViews {
				checkRandomReads(t, sb, nv, views[nv.name], rng, 12)
				s, err := sb.OpenSnapshot(nv.v)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, s)
			}

			for step := range 3 {
				if step != 1 {
					g.stepBack(time.Duration(1+rng.IntN(3)) * time.Second)
				}
				g.write(tc.grow, step < 2)
				expireHold(sb)
				grown := checkViews(t, d, sb)
				fresh := d.open()
				for _, nv := range allViews {
					compareBytes(t, fmt.Sprintf("step %d: %s, extended index vs fresh Home", step, nv.name), grown[nv.name], snap(t, fresh, nv.v))
					checkRandomReads(t, sb, nv, grown[nv.name], rng, 6)
				}
			}

			for i, s := range held {
				nv := allViews[i]
				got := readAllAt(t, s, s.Size(), 100000)
				compareBytes(t, nv.name+": snapshot opened before the growth", got, views[nv.name])
				s.Close()
			}
		})
	}
}

// TestIndexEarlierEntryAppended is the focused case of the property test:
// a line appended to runtime.log (and one to exec.log) whose timestamp sorts
// before entries already merged is merged where it belongs, as a fresh
// read of the files would put it.
func TestIndexEarlierEntryAppended(t *testing.T) {
	d := newSandboxDir(t)
	var exec strings.Builder
	for i := range 3000 { // about 150 KiB: several checkpoints
		exec.WriteString(jl(int64(i)*10, "stdout", fmt.Sprintf("line %04d %s\n", i, strings.Repeat("x", 20))))
	}
	d.exec(exec.String())
	d.runtime(rl(5, "runtime early"))
	sb := d.open()
	checkViews(t, d, sb)

	d.runtime(rl(15005, "runtime appended, sorts in the middle"))
	d.exec(jl(29990, "stderr", "exec appended, sorts at the end\n"))
	expireHold(sb)
	got := checkViews(t, d, sb)
	merged := string(got["merged"])
	i := strings.Index(merged, "runtime appended")
	j := strings.Index(merged, "line 1501")
	k := strings.Index(merged, "line 1500")
	if i < 0 || !(k < i && i < j) {
		t.Fatalf("the appended runtime line is not between lines 1500 and 1501 (at %d, %d, %d)", k, i, j)
	}

	// Only the exec origin grows, with a line that sorts first of all.
	d.exec(jl(-1000, "stdout", "exec appended, sorts after the runtime line by origin order\n"))
	expireHold(sb)
	checkViews(t, d, sb)
}

// TestIndexStatMatchesRead checks Stat against a full read for every view
// on a corpus with every kind of body, including after growth.
func TestIndexStatMatchesRead(t *testing.T) {
	d := newSandboxDir(t)
	g := newCorpusGen(d, 7)
	g.write(40<<10, false)
	sb := d.open()
	for range 3 {
		for _, nv := range allViews {
			st, err := sb.Stat(nv.v)
			if err != nil {
				t.Fatal(err)
			}
			if b := snap(t, sb, nv.v); int64(len(b)) != st.Size {
				t.Fatalf("%s: Stat %d, read %d", nv.name, st.Size, len(b))
			}
			if b := readerAll(t, sb, nv.v, State{}); int64(len(b)) != st.Size {
				t.Fatalf("%s: Stat %d, Reader %d", nv.name, st.Size, len(b))
			}
		}
		g.write(20<<10, false)
		expireHold(sb)
	}
}

// TestEntrySize checks that EntrySize predicts the rendered length of
// random entries in every format.
func TestEntrySize(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"", "a", "\n", "\x1b[31m", "\x1b[0m", "\x1b]0;t\x07", "\x1b", "\x1b[", "é", "\xff", "\"", "\\", "\t", "\x00", "\x1f", "\x7f", "😀", "\u2028", "line\n", "\r\n"}
	var r render.Renderer
	c := Cursor{{Gen: 1, Offset: 2}, {Gen: 3, Offset: 4}, {Gen: 5, Offset: 6}}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		e := Entry{Time: Time{Sec: rng.Int64N(4e18) - 2e18, Nsec: uint32(rng.IntN(2e9))}, Source: Source(rng.IntN(int(logline.NumSources))), Origin: logline.Origin(rng.IntN(int(logline.NumOrigins))), Body: []byte(b.String())}
		if rng.IntN(2) == 0 {
			e.HasID, e.ID = true, rng.Uint64()>>rng.IntN(64)
		}
		for _, f := range []Format{FormatRaw, FormatText, FormatJSON} {
			got := r.AppendEntry(nil, f, &e, &c)
			if int64(len(got)) != render.EntrySize(f, &e) {
				t.Fatalf("format %d, body %q: entrySize %d, rendered %d: %q", f, e.Body, render.EntrySize(f, &e), len(got), got)
			}
			if f == FormatJSON {
				if _, err := decodeJSONLine(got); err != nil {
					t.Fatalf("body %q: rendered JSON %q: %v", e.Body, got, err)
				}
			}
		}
	}
}

// TestIndexSparse checks that the index stays sparse: a checkpoint per
// few tens of KiB of input, not per entry.
func TestIndexSparse(t *testing.T) {
	d := newSandboxDir(t)
	var exec strings.Builder
	for i := range 20000 {
		exec.WriteString(jl(int64(i), "stdout", "tiny\n"))
	}
	d.exec(exec.String())
	sb := d.open()
	if _, err := sb.Stat(ViewMerged); err != nil {
		t.Fatal(err)
	}
	in := fileSize(t, d.path(ExecLogName))
	n := int64(len(sb.indexes[MaskAll].Cps))
	if n > in/(8<<10) || n < 2 {
		t.Fatalf("%d checkpoints for %d bytes of input", n, in)
	}
}

// TestSnapshotForwardSeek: a read far ahead of the previous one resumes
// from the checkpoint nearest to it, as a first read there would, instead
// of rendering everything in between (random reads of a large file, by a
// pager or a FUSE client, would each cost a sequential pass). The work done
// is observed through the malformed lines the merge skipped since its last
// reset: one every ten lines.
func TestSnapshotForwardSeek(t *testing.T) {
	d := newSandboxDir(t)
	var b strings.Builder
	for i := range 20000 {
		b.WriteString(jl(int64(i), "stdout", fmt.Sprintf("line %05d\n", i)))
		if i%10 == 0 {
			b.WriteString("{malformed}\n")
		}
	}
	d.exec(b.String())
	sb := d.open()
	s, err := sb.OpenSnapshot(ViewStdout)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 4096)
	if _, err := s.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	far := s.Size() - 3*4096
	if _, err := s.ReadAt(buf, far); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("line %05d", 20000-1-3*4096/len("line 00000\n")); !strings.Contains(string(buf), want[:8]) {
		t.Fatalf("read at %d: %q", far, buf[:40])
	}
	skipped := s.seg.Skipped().Malformed
	// A checkpoint every CheckpointEvery bytes of input: about 1 in 10 of
	// the ~90-byte lines of an interval is malformed. The read renders the
	// chunk it starts in and may run into the next one and the tail.
	if limit := 3 * index.CheckpointEvery / 90 / 10; skipped > limit {
		t.Errorf("the read at %d went through %d malformed lines since the last seek (of 2000): it rendered from the previous read, not from the nearest checkpoint (limit %d)", far, skipped, limit)
	}
}
