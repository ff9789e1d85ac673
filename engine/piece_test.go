package engine

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// randomLongBody returns a body longer than WholeMax made of runs that
// stress piece boundaries: newlines, ANSI escapes (one unterminated at the
// end sometimes), JSON specials, multi-byte and invalid UTF-8.
func randomLongBody(rng *rand.Rand) []byte {
	runs := []string{"\n", "\n\n\n", "\x1b[31m", "\x1b]0;title\x07", "\x1b", "plain text ", "\"\\\t\r\x00",
		"é€😀", "\xff\xfe", strings.Repeat("x", 300), strings.Repeat("\n", 200)}
	var b []byte
	for len(b) <= render.WholeMax+rng.Intn(3*render.PieceLen) {
		b = append(b, runs[rng.Intn(len(runs))]...)
	}
	switch rng.Intn(4) {
	case 0:
		b = append(b, '\n')
	case 1:
		b = append(b, "\x1b[1"...)
	}
	return b
}

// TestPiecesEqualWhole: rendering an entry piece by piece gives exactly
// the bytes of rendering it whole, in every format, and every piece stays
// near PieceLen.
func TestPiecesEqualWhole(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	c := Cursor{{Gen: 7, Offset: 99}}
	for i := range 60 {
		body := randomLongBody(rng)
		if i%3 == 0 {
			body = bytes.ToValidUTF8(body, []byte("?"))
		}
		e := Entry{Time: nsAt(int64(i)), Source: Source(i % int(logline.NumSources)), HasID: i%2 == 0, ID: uint64(i), Body: body}
		for _, f := range []Format{FormatRaw, FormatText, FormatJSON} {
			var r render.Renderer
			want := r.AppendEntry(nil, f, &e, &c)
			var p render.EntryPart
			p.Begin(f, &e, &c)
			var got []byte
			for n := 0; !p.Done(); n++ {
				if n > len(want) {
					t.Fatalf("entry %d format %d: no end after %d pieces", i, f, n)
				}
				piece := r.AppendPiece(nil, &p)
				if len(piece) > render.PieceLen+64 {
					t.Fatalf("entry %d format %d: piece of %d bytes", i, f, len(piece))
				}
				got = append(got, piece...)
			}
			compareBytes(t, fmt.Sprintf("entry %d format %d", i, f), got, want)
			if int64(len(want)) != render.EntrySize(f, &e) {
				t.Fatalf("entry %d format %d: %d bytes, entrySize says %d", i, f, len(want), render.EntrySize(f, &e))
			}
		}
	}
}

// TestLongEntryEveryPath: a sandbox whose exec.log holds entries too long
// to render whole (one of them renders to a chunk past chunkMax) reads the
// same through a snapshot (sequential reads of several sizes and random
// reads), a Reader, a follower and the Scanner's Renderer.Write as the
// model renders it.
func TestLongEntryEveryPath(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "before\n"),
		jlID(1, "stdout", strings.Repeat("\n", 150<<10), 3), // 150 Ki lines of text: ~5 MB, past chunkMax
		jl(2, "stderr", "\x1b[1m"+strings.Repeat("long line ", 10<<10)+"\x1b[0m\r\n"),
		jl(3, "output", strings.Repeat("ünïcödé ", 8<<10)),
		jl(4, "stdout", "after\n"))
	d.runtime(rl(1, "runtime between"))
	sb := d.open()
	m := buildModel(t, d.logs)
	for _, cache := range []bool{false, true} {
		fresh := d.openWith(func(h *Home) {
			if !cache {
				h.SetCacheDir("")
			}
		})
		for _, nv := range allViews {
			s, err := fresh.OpenSnapshot(nv.v)
			if err != nil {
				t.Fatal(err)
			}
			if held := heldWhileReading(t, s, 4096); held > 1<<20 {
				t.Errorf("%s (render cache %v): a read held %d rendered bytes in memory", nv.name, cache, held)
			}
			s.Close()
			r := fresh.NewReader(nv.v, State{})
			buf, held := make([]byte, 4096), 0
			for {
				c, err := r.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				if held = max(held, cap(r.pending)); c == 0 {
					break
				}
			}
			r.Close()
			if held > 1<<20 {
				t.Errorf("%s: a Reader held %d rendered bytes in memory", nv.name, held)
			}
		}
	}
	for _, nv := range allViews {
		s, err := sb.OpenSnapshot(nv.v)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		if nv.v.Format == FormatJSON {
			want = readAllAt(t, s, s.Size(), 1<<20)
			compareJSONL(t, nv.name, parseJSONL(t, want), m.jsonl())
		} else {
			want = m.render(nv.v)
		}
		for _, n := range []int{1000, 4096, 128 << 10} {
			compareBytes(t, fmt.Sprintf("%s read by %d", nv.name, n), readAllAt(t, s, s.Size(), n), want)
		}
		rng := rand.New(rand.NewSource(2))
		for range 50 {
			off := rng.Int63n(s.Size())
			buf := make([]byte, 1+rng.Intn(200<<10))
			c, err := s.ReadAt(buf, off)
			if err != nil && c < len(buf) && off+int64(c) != s.Size() {
				t.Fatalf("%s ReadAt(%d, %d): %d, %v", nv.name, off, len(buf), c, err)
			}
			compareBytes(t, fmt.Sprintf("%s at %d", nv.name, off), buf[:c], want[off:off+int64(c)])
		}
		s.Close()
		compareBytes(t, nv.name+" through a Reader", readerAll(t, sb, nv.v, State{}), want)
		fl := openFollower(t, sb, nv.v)
		compareBytes(t, nv.name+" through a follower", fl.read(), want)
		var out bytes.Buffer
		var r Renderer
		sc := sb.NewScanner(Query{Mask: nv.v.Mask})
		if err := sc.Next(func(e *Entry, after *State) error { return r.Write(&out, nv.v.Format, e, after) }); err != nil {
			t.Fatal(err)
		}
		sc.Close()
		compareBytes(t, nv.name+" through Renderer.Write", out.Bytes(), want)
	}
}

// heldWhileReading reads s sequentially n bytes at a time and returns the
// most rendered bytes its segment held in memory (pending and the chunk
// being rendered for the cache) between two reads.
func heldWhileReading(t *testing.T, s *Snapshot, n int) int {
	t.Helper()
	buf := make([]byte, n)
	held := 0
	for off := int64(0); off < s.Size(); {
		c, err := s.ReadAt(buf, off)
		if c == 0 {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
		off += int64(c)
		held = max(held, s.seg.Buffered())
	}
	return held
}
