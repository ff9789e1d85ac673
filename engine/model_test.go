package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// This file is a reference model of docs/formats.md, written independently of
// the engine and as plainly as possible: it reads every log file whole,
// parses exec.log with encoding/json and the text logs with regular
// expressions, merges the origins by repeatedly taking the smallest head
// and renders the views. Tests compare the engine with it.

// mEntry is one entry of the model.
type mEntry struct {
	time   Time
	source Source
	origin logline.Origin
	id     *uint64
	body   []byte
	end    logline.Pos // the position just past the entry's line in its origin
}

// model is the parsed content of one sandbox's logs directory.
type model struct {
	origins [logline.NumOrigins][]mEntry
	counts  chain.Counts
}

// buildModel reads the logs directory.
func buildModel(t testing.TB, logs string) *model {
	t.Helper()
	m := &model{}
	for i := ChainLen - 1; i >= 0; i-- {
		m.readExec(t, logs+"/"+chain.ChainName(i), i == 0)
	}
	m.readText(t, logs+"/"+RuntimeLogName, logline.OriginRuntime)
	m.readText(t, logs+"/"+KernelLogName, logline.OriginKernel)
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

// regularFile reports whether path is a regular file: the engine reads
// nothing else (no FIFO, directory, socket, device or symbolic link).
func regularFile(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode().IsRegular()
}

func (m *model) readExec(t testing.TB, path string, last bool) {
	if !regularFile(path) {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gen := inodeOf(t, path)
	lines, ends := modelLines(data, last)
	for i, line := range lines {
		switch {
		case len(line) == 0:
			m.counts.Empty++
		case len(line) > logline.MaxLineLen:
			m.counts.TooLong++
		default:
			e, ok := modelExecLine(line)
			if !ok {
				m.counts.Malformed++
				continue
			}
			e.end = logline.Pos{Gen: gen, Offset: ends[i]}
			m.origins[logline.OriginExec] = append(m.origins[logline.OriginExec], e)
		}
	}
}

// modelExecLine parses an exec.log line with encoding/json. A line with
// a known key twice is invalid, as for serde's derived Deserialize.
func modelExecLine(line []byte) (mEntry, bool) {
	var e mEntry
	var obj map[string]json.RawMessage
	if json.Unmarshal(line, &obj) != nil || obj == nil || testutil.DuplicateKnownKey(line) {
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
	tm, ok := testutil.ModelTime(ts)
	if !ok {
		return e, false
	}
	s, ok := ParseSource(src)
	if !ok {
		return e, false
	}
	e.time, e.source, e.origin, e.body = tm, s, logline.OriginExec, []byte(d)
	if enc == "b64" {
		if raw, err := base64.StdEncoding.DecodeString(d); err == nil {
			e.body = raw
		}
	}
	return e, true
}

var uptimeRE = regexp.MustCompile(`^\[ *([0-9]+)\.([0-9]+)\]`)

// modelFormat renders a time with the time package, a leap second as :60.
func modelFormat(t Time) string {
	s := time.Unix(t.Sec, int64(t.Nsec%1e9)).UTC().Format("2006-01-02T15:04:05.000Z")
	if t.Nsec >= 1e9 {
		s = s[:17] + "60" + s[19:]
	}
	return s
}

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

func (m *model) readText(t testing.TB, path string, o logline.Origin) {
	if !regularFile(path) {
		return
	}
	data, err := os.ReadFile(path)
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
		if len(line) > logline.MaxLineLen {
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
		if tm, ok := testutil.ModelTime(string(tok)); ok && len(tok) >= 20 && tok[len(tok)-1] == 'Z' {
			ts, body = tm, bytes.TrimLeft(rest[len(tok):], " \t")
		} else if g := uptimeRE.FindSubmatch(s); g != nil {
			if up, ok := modelUptime(birth, string(g[1]), string(g[2])); ok {
				ts = up
			}
		}
		prev = ts
		m.origins[o] = append(m.origins[o], mEntry{
			time: ts, source: SourceSystem, origin: o,
			body: append(append([]byte(nil), body...), '\n'),
			end:  logline.Pos{Gen: gen, Offset: ends[i]},
		})
	}
}

// modelUptime returns birth plus an uptime of secs.frac seconds, computed
// with big integers, and false if it is longer than a century or past the
// year 9999.
func modelUptime(birth Time, secs, frac string) (Time, bool) {
	s, ok := new(big.Int).SetString(secs, 10)
	if !ok || s.Cmp(big.NewInt(100*365*86400)) > 0 {
		return Time{}, false
	}
	ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	sum := new(big.Int).Add(big.NewInt(birth.Sec), s)
	nsec := int64(birth.Nsec%1e9) + ns
	if birth.Nsec >= 1e9 {
		sum.Add(sum, big.NewInt(1))
	}
	if nsec >= 1e9 {
		sum.Add(sum, big.NewInt(1))
		nsec -= 1e9
	}
	if !sum.IsInt64() || sum.Int64() > logline.MaxTime.Sec {
		return Time{}, false
	}
	return Time{Sec: sum.Int64(), Nsec: uint32(nsec)}, true
}

// merge returns the entries of a view (filtered per origin, then merged
// by time, ties in origin order) and the cursor after each.
func (m *model) merge(mask SourceMask) ([]mEntry, []Cursor) {
	var seqs [logline.NumOrigins][]mEntry
	for o := range logline.NumOrigins {
		if o != logline.OriginExec && !mask.Has(SourceSystem) {
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
		for o := range logline.NumOrigins {
			if len(seqs[o]) == 0 {
				continue
			}
			if best < 0 || seqs[o][0].time.Compare(seqs[best][0].time) < 0 {
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

// sessionMerge returns the entries of session id that mask selects, in
// the order of the full merge, and the full merge's cursor after each.
func (m *model) sessionMerge(mask SourceMask, id uint64) ([]mEntry, []Cursor) {
	all, curs := m.merge(MaskAll)
	var es []mEntry
	var cs []Cursor
	for i, e := range all {
		if e.id != nil && *e.id == id && mask.Has(e.source) {
			es = append(es, e)
			cs = append(cs, curs[i])
		}
	}
	return es, cs
}

// viewEntries returns the entries of view v, session views included, and
// the cursor after each.
func (m *model) viewEntries(v View) ([]mEntry, []Cursor) {
	if v.ByID {
		return m.sessionMerge(v.Mask, v.ID)
	}
	return m.merge(v.Mask)
}

// sessions returns the model's sessions by id: first and last entry times
// in merge order, sources, entries, body bytes, and the cursor after the
// last entry.
func (m *model) sessions() []SessionInfo {
	all, curs := m.merge(MaskAll)
	by := map[uint64]*SessionInfo{}
	var ids []uint64
	for i, e := range all {
		if e.id == nil {
			continue
		}
		s := by[*e.id]
		if s == nil {
			s = &SessionInfo{ID: *e.id, First: e.time}
			by[*e.id] = s
			ids = append(ids, *e.id)
		}
		s.Last, s.Cursor = e.time, curs[i]
		s.Sources |= 1 << e.source
		s.Entries++
		s.Bytes += int64(len(e.body))
	}
	slices.Sort(ids)
	out := make([]SessionInfo, len(ids))
	for i, id := range ids {
		out[i] = *by[id]
	}
	return out
}

// render renders a raw or text view the way docs/formats.md says.
func (m *model) render(v View) []byte {
	es, _ := m.viewEntries(v)
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
	prefix := modelFormat(e.time) + " " + e.source.String() + " "
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

// modelEscape makes a stripped piece safe as docs/formats.md says: a final '\r'
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
func (m *model) jsonl() []jentry { return m.jsonlOf(m.merge(MaskAll)) }

// jsonlOf returns the decoded JSON Lines of entries es, whose cursors are
// curs.
func (m *model) jsonlOf(es []mEntry, curs []Cursor) []jentry {
	out := make([]jentry, len(es))
	for i, e := range es {
		j := jentry{
			T: modelFormat(e.time),
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
// docs/formats.md, so that the model is a fair judge.
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
		if got := string(logline.StripANSI([]byte(in))); got != want {
			t.Errorf("stripANSI(%q) = %q, want %q", in, got, want)
		}
	}
}
