package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// This file is a reference model of SPEC §1–§3, written independently of
// the engine and as plainly as possible: it reads every log file whole,
// parses exec.log with encoding/json and the text logs with regular
// expressions, merges the origins by repeatedly taking the smallest head
// and renders the views. Tests compare the engine with it.

// mEntry is one entry of the model.
type mEntry struct {
	time   int64
	source Source
	origin Origin
	id     *uint64
	body   []byte
	end    Pos // the position just past the entry's line in its origin
}

// model is the parsed content of one sandbox's logs directory.
type model struct {
	origins [NumOrigins][]mEntry
	counts  Counts
}

// buildModel reads the logs directory.
func buildModel(t testing.TB, logs string) *model {
	t.Helper()
	m := &model{}
	for i := ChainLen - 1; i >= 0; i-- {
		m.readExec(t, logs+"/"+chainName(i), i == 0)
	}
	m.readText(t, logs+"/"+RuntimeLogName, OriginRuntime)
	m.readText(t, logs+"/"+KernelLogName, OriginKernel)
	return m
}

// lines splits data into complete lines with their end offsets. The
// unterminated tail of the newest file is not a line yet; that of a rotated
// file is (it can never be completed).
func modelLines(data []byte, last bool) (lines [][]byte, ends []uint64) {
	off := 0
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			if last {
				break
			}
			lines = append(lines, data[off:])
			ends = append(ends, uint64(len(data)))
			break
		}
		lines = append(lines, data[off:off+nl])
		ends = append(ends, uint64(off+nl+1))
		off += nl + 1
	}
	return lines, ends
}

func inodeOf(t testing.TB, path string) uint64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func (m *model) readExec(t testing.TB, path string, last bool) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	gen := inodeOf(t, path)
	lines, ends := modelLines(data, last)
	for i, line := range lines {
		switch {
		case len(line) == 0:
			m.counts.Empty++
		case len(line) > MaxLineLen:
			m.counts.TooLong++
		default:
			e, ok := modelExecLine(line)
			if !ok {
				m.counts.Malformed++
				continue
			}
			e.end = Pos{Gen: gen, Offset: ends[i]}
			m.origins[OriginExec] = append(m.origins[OriginExec], e)
		}
	}
}

// modelExecLine parses an exec.log line with encoding/json.
func modelExecLine(line []byte) (mEntry, bool) {
	var e mEntry
	var obj map[string]json.RawMessage
	if json.Unmarshal(line, &obj) != nil || obj == nil {
		return e, false
	}
	var ts, src, d, enc string
	if json.Unmarshal(obj["t"], &ts) != nil || json.Unmarshal(obj["s"], &src) != nil {
		return e, false
	}
	if raw, ok := obj["d"]; ok && json.Unmarshal(raw, &d) != nil {
		return e, false
	}
	if raw, ok := obj["e"]; ok && json.Unmarshal(raw, &enc) != nil {
		return e, false
	}
	if raw, ok := obj["id"]; ok && string(raw) != "null" {
		var id uint64
		if json.Unmarshal(raw, &id) != nil || bytes.ContainsAny(raw, ".eE") {
			return e, false
		}
		e.id = &id
	}
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return e, false
	}
	s, ok := ParseSource(src)
	if !ok {
		return e, false
	}
	e.time, e.source, e.origin, e.body = tm.UnixNano(), s, OriginExec, []byte(d)
	if enc == "b64" {
		if raw, err := base64.StdEncoding.DecodeString(d); err == nil {
			e.body = raw
		}
	}
	return e, true
}

var uptimeRE = regexp.MustCompile(`^\[ *([0-9]+)\.([0-9]+)\]`)

// modelStrip removes ANSI escapes.
func modelStrip(b []byte) []byte {
	var out []byte
	for {
		i := bytes.IndexByte(b, 0x1b)
		if i < 0 {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		b = b[i:]
		j := 1
		switch {
		case len(b) == 1:
		case b[1] == '[':
			j = 2
			for j < len(b) && !(b[j] >= 0x40 && b[j] <= 0x7e) {
				j++
			}
			j = min(j+1, len(b))
		case b[1] == ']':
			j = 2
			for j < len(b) && b[j] != 0x07 && !(b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\') {
				j++
			}
			switch {
			case j >= len(b):
			case b[j] == 0x07:
				j++
			default:
				j += 2
			}
		default:
			j = 2
		}
		b = b[j:]
	}
}

func (m *model) readText(t testing.TB, path string, o Origin) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	gen, birth := statx(t, path)
	prev := birth
	lines, ends := modelLines(data, true)
	for i, line := range lines {
		if len(line) == 0 {
			m.counts.Empty++
			continue
		}
		if len(line) > MaxLineLen {
			m.counts.TooLong++
			continue
		}
		s := modelStrip(line)
		body := s
		ts := prev
		rest := bytes.TrimLeft(s, " \t")
		tok := rest
		if k := bytes.IndexAny(rest, " \t"); k >= 0 {
			tok = rest[:k]
		}
		if tm, err := time.Parse(time.RFC3339Nano, string(tok)); err == nil && len(tok) >= 20 && tok[len(tok)-1] == 'Z' {
			ts, body = tm.UnixNano(), bytes.TrimLeft(rest[len(tok):], " \t")
		} else if g := uptimeRE.FindSubmatch(s); g != nil {
			secs, _ := strconv.ParseInt(string(g[1]), 10, 64)
			frac := string(g[2]) + "000000000"
			ns, _ := strconv.ParseInt(frac[:9], 10, 64)
			ts = birth + secs*1e9 + ns
		}
		prev = ts
		m.origins[o] = append(m.origins[o], mEntry{
			time: ts, source: SourceSystem, origin: o,
			body: append(append([]byte(nil), body...), '\n'),
			end:  Pos{Gen: gen, Offset: ends[i]},
		})
	}
}

// merge returns the entries of a view (filtered per origin, then merged
// by time, ties in origin order) and the cursor after each.
func (m *model) merge(mask SourceMask) ([]mEntry, []Cursor) {
	var seqs [NumOrigins][]mEntry
	for o := range NumOrigins {
		if o != OriginExec && !mask.Has(SourceSystem) {
			continue
		}
		for _, e := range m.origins[o] {
			if mask.Has(e.source) {
				seqs[o] = append(seqs[o], e)
			}
		}
	}
	var out []mEntry
	var curs []Cursor
	var cur Cursor
	for {
		best := -1
		for o := range NumOrigins {
			if len(seqs[o]) == 0 {
				continue
			}
			if best < 0 || seqs[o][0].time < seqs[best][0].time {
				best = int(o)
			}
		}
		if best < 0 {
			return out, curs
		}
		e := seqs[best][0]
		seqs[best] = seqs[best][1:]
		cur[best] = e.end
		out = append(out, e)
		curs = append(curs, cur)
	}
}

// render renders a raw or text view the way SPEC §3 says.
func (m *model) render(v View) []byte {
	es, _ := m.merge(v.Mask)
	var b []byte
	for _, e := range es {
		switch v.Format {
		case FormatRaw:
			b = append(b, e.body...)
		case FormatText:
			b = append(b, modelText(e)...)
		default:
			panic("use jsonl")
		}
	}
	return b
}

func modelText(e mEntry) []byte {
	var b []byte
	body := modelStrip(e.body)
	prefix := time.Unix(0, e.time).UTC().Format("2006-01-02T15:04:05.000Z") + " " + e.source.String() + " "
	pieces := bytes.Split(body, []byte{'\n'})
	if len(pieces) > 1 && len(pieces[len(pieces)-1]) == 0 {
		pieces = pieces[:len(pieces)-1]
	}
	for _, p := range pieces {
		b = append(b, prefix...)
		b = append(b, modelEscape(p)...)
		b = append(b, '\n')
	}
	return b
}

// modelEscape makes a stripped piece safe as SPEC §3 says: a final '\r'
// dropped; bytes below 0x20 but tab, 0x7f and bytes not part of valid UTF-8
// written \xNN.
func modelEscape(p []byte) []byte {
	p = bytes.TrimSuffix(p, []byte{'\r'})
	var b []byte
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if (r == utf8.RuneError && size == 1) || (size == 1 && ((r < 0x20 && r != '\t') || r == 0x7f)) {
			b = fmt.Appendf(b, "\\x%02x", p[0])
		} else {
			b = append(b, p[:size]...)
		}
		p = p[size:]
	}
	return b
}

// jsonl returns the decoded merged.jsonl entries of the model.
func (m *model) jsonl() []jentry {
	es, curs := m.merge(MaskAll)
	out := make([]jentry, len(es))
	for i, e := range es {
		j := jentry{
			T: time.Unix(0, e.time).UTC().Format("2006-01-02T15:04:05.000Z"),
			S: e.source.String(),
			D: string(e.body),
		}
		j.Keys = []string{"t", "s", "d"}
		if e.id != nil {
			j.ID = e.id
			j.Keys = append(j.Keys, "id")
		}
		if !utf8.Valid(e.body) {
			j.D, j.E = base64.StdEncoding.EncodeToString(e.body), "b64"
			j.Keys = append(j.Keys, "e")
		}
		j.Keys = append(j.Keys, "cursor")
		c := curs[i]
		j.Cursor = encodeCursor(c[0], c[1], c[2])
		out[i] = j
	}
	return out
}

// compareJSONL reports the first difference between two decoded
// merged.jsonl renderings.
func compareJSONL(t testing.TB, what string, got, want []jentry) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if !equalJentry(g, w) {
			t.Fatalf("%s: entry %d of %d:\n got  %+v (d %q)\n want %+v (d %q)", what, i, len(want), g, g.D, w, w.D)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries, want %d", what, len(got), len(want))
	}
}

func equalJentry(a, b jentry) bool {
	if len(a.Keys) != len(b.Keys) {
		return false
	}
	for i := range a.Keys {
		if a.Keys[i] != b.Keys[i] {
			return false
		}
	}
	if (a.ID == nil) != (b.ID == nil) || (a.ID != nil && *a.ID != *b.ID) {
		return false
	}
	return a.T == b.T && a.S == b.S && a.D == b.D && a.E == b.E && a.Cursor == b.Cursor
}

// compareBytes reports the first differing line of two renderings.
func compareBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-120)
	t.Fatalf("%s: differs at byte %d (got %d bytes, want %d):\n got  %q\n want %q",
		what, i, len(got), len(want), got[from:min(len(got), i+120)], want[from:min(len(want), i+120)])
}

// TestModelStrip checks the model's ANSI stripping against the examples of
// SPEC §1, so that the model is a fair judge.
func TestModelStrip(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                        "plain",
		"\x1b[31mred\x1b[0m":           "red",
		"\x1b[1;32;40mx\x1b[K":         "x",
		"a\x1b]0;title\x07b":           "ab",
		"a\x1b]8;;http://x\x1b\\link":  "alink",
		"a\x1b(Bb":                     "aBb", // two-byte ESC (, then B stays
		"a\x1bcb":                      "ab",
		"cut\x1b[3":                    "cut",
		"end\x1b":                      "end",
		"\x1b]unterminated":            "",
		"\x1b[?25l\x1b[2J\x1b[Hscreen": "screen",
	} {
		if got := string(modelStrip([]byte(in))); got != want {
			t.Errorf("modelStrip(%q) = %q, want %q", in, got, want)
		}
		if got := string(stripANSI([]byte(in))); got != want {
			t.Errorf("stripANSI(%q) = %q, want %q", in, got, want)
		}
	}
}
