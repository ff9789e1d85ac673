package engine

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// sessionViews are the views a session has, by the name of their file.
var sessionViews = allViews[:5]

// checkSessions compares, for every session of the model and an id no
// entry has, every session view of sb (a snapshot, random reads, a Reader
// from the start) with the model, and Sessions and Session with the
// model's aggregate. It returns the views' bytes by id and name.
func checkSessions(t *testing.T, d *tdir, sb *Sandbox, rng *rand.Rand) map[uint64]map[string][]byte {
	t.Helper()
	m := buildModel(t, d.logs)
	want := m.sessions()
	got, err := sb.Sessions()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Sessions: %d sessions, the model has %d (%+v vs %+v)", len(got), len(want), got, want)
	}
	out := make(map[uint64]map[string][]byte)
	for i, w := range want {
		g := got[i]
		if g.Cursor != (Cursor{}) {
			t.Fatalf("Sessions filled the cursor of session %d", g.ID)
		}
		g.Cursor = w.Cursor
		if g != w {
			t.Fatalf("Sessions()[%d] = %+v, the model says %+v", i, got[i], w)
		}
		one, err := sb.Session(w.ID)
		if err != nil {
			t.Fatalf("Session(%d): %v", w.ID, err)
		}
		if one != w {
			t.Fatalf("Session(%d) = %+v, the model says %+v", w.ID, one, w)
		}
		if sum, err := sb.SessionSummary(w.ID); err != nil || sum != got[i] {
			t.Fatalf("SessionSummary(%d) = %+v, %v; Sessions lists %+v", w.ID, sum, err, got[i])
		}
		out[w.ID] = make(map[string][]byte)
		for _, nv := range sessionViews {
			v := nv.v.Session(w.ID)
			name := fmt.Sprintf("session %d %s", w.ID, nv.name)
			st, err := sb.Stat(v)
			if err != nil {
				t.Fatalf("Stat(%s): %v", name, err)
			}
			full := snap(t, sb, v)
			if st.Size != int64(len(full)) {
				t.Fatalf("%s: Stat size %d, a full read gives %d bytes", name, st.Size, len(full))
			}
			if v.Format == FormatJSON {
				compareJSONL(t, name, parseJSONL(t, full), m.jsonlOf(m.viewEntries(v)))
			} else {
				compareBytes(t, name, full, m.render(v))
			}
			compareBytes(t, name+" through a Reader", readerAll(t, sb, v, State{}), full)
			checkRandomReads(t, sb, namedView{name, v}, full, rng, 4)
			out[w.ID][nv.name] = full
		}
	}
	checkNoSession(t, sb, 12345)
	return out
}

// checkNoSession checks that id is refused as a session that does not exist.
func checkNoSession(t *testing.T, sb *Sandbox, id uint64) {
	t.Helper()
	_, err := sb.Session(id)
	if !errors.Is(err, ErrNoSession) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Session(%d) of no entry: %v, want ErrNoSession and fs.ErrNotExist", id, err)
	}
	if _, err := sb.SessionSummary(id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("SessionSummary(%d) of no entry: %v, want ErrNoSession", id, err)
	}
	if _, err := sb.Stat(ViewStdout.Session(id)); !errors.Is(err, ErrNoSession) {
		t.Fatalf("Stat of session %d: %v, want ErrNoSession", id, err)
	}
	if s, err := sb.OpenSnapshot(ViewMerged.Session(id)); !errors.Is(err, ErrNoSession) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("OpenSnapshot of session %d: %v, want ErrNoSession", id, err)
	}
}

// TestSessionProperty: for random hostile corpora (several interleaved
// ids, entries without id, system markers, text logs, rotations, partial
// lines, appends between opens, entries that sort before merged ones),
// every view of every session equals the model byte for byte, read whole,
// at random offsets and through a Reader; Sessions and Session equal the
// model's aggregate and cursor, also through a fresh Home; the sandbox's
// views read after the sessions' are still the model's (no chunk of a
// session is served for them); a session snapshot opened before the
// growth keeps its bytes.
func TestSessionProperty(t *testing.T) {
	cases := []struct {
		seed     uint64
		rotateAt int64
		noCache  bool
	}{
		{11, 1 << 30, false},
		{12, 48 << 10, true},
		{13, 20 << 10, false}, // the chain drops files: rebuilds
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint("seed", tc.seed), func(t *testing.T) {
			t.Parallel()
			d, g, sb := adversarySandbox(t, tc.seed, tc.rotateAt, 150<<10, tc.noCache)
			rng := rand.New(rand.NewPCG(tc.seed, 7))
			before := checkSessions(t, d, sb, rng)
			if len(before) < 3 {
				t.Fatalf("only %d sessions: the corpus does not exercise sessions", len(before))
			}
			checkViews(t, d, sb) // the sandbox's views after its sessions' (one render cache)
			var held []*Snapshot
			var heldWant [][]byte
			for id, views := range before {
				s, err := sb.OpenSnapshot(ViewMergedJSON.Session(id))
				if err != nil {
					t.Fatal(err)
				}
				held, heldWant = append(held, s), append(heldWant, views["merged.jsonl"])
			}
			for step := range 3 {
				if step == 1 {
					g.stepBack(2 * time.Second)
				}
				g.write(40<<10, step < 2)
				expireHold(sb)
				grown := checkSessions(t, d, sb, rng)
				fresh := d.open()
				for id, views := range grown {
					for _, nv := range sessionViews {
						compareBytes(t, fmt.Sprintf("step %d: session %d %s, fresh Home", step, id, nv.name),
							snap(t, fresh, nv.v.Session(id)), views[nv.name])
					}
				}
			}
			for i, s := range held {
				compareBytes(t, "a session snapshot opened before the growth", readAllAt(t, s, s.Size(), 7000), heldWant[i])
				s.Close()
			}
		})
	}
}

// sessionLog writes exec.log lines: n entries of session 1 (about 100
// bytes each), with k stdout lines and one stderr line of session 2
// before each entry of mids, and the markers of a session's start and end,
// which have no id.
func sessionLog(d *tdir, n, k int, mids ...int) {
	var b strings.Builder
	b.WriteString(jl(0, "system", "session 1 started"))
	for i := range n {
		if slices.Contains(mids, i) {
			b.WriteString(sessionTwo(i, k))
		}
		b.WriteString(jlID(int64(i), "stdout", fmt.Sprintf("line %06d of session one %s\n", i, strings.Repeat("x", 40)), 1))
	}
	b.WriteString(jl(int64(n), "system", "session 1 exited"))
	d.exec(b.String())
}

// sessionTwo returns k stdout lines and one stderr line of session 2 at
// time ms.
func sessionTwo(ms, k int) string {
	var b strings.Builder
	for j := range k {
		b.WriteString(jlID(int64(ms), "stdout", fmt.Sprintf("session two line %d\n", j), 2))
	}
	b.WriteString(jlID(int64(ms), "stderr", "session two error\n", 2))
	return b.String()
}

// twoStdout is the stdout of k lines of session 2.
func twoStdout(k int) string {
	var b strings.Builder
	for j := range k {
		fmt.Fprintf(&b, "session two line %d\n", j)
	}
	return b.String()
}

// TestSessionReadSkipsIntervals: reading a small session parses only the
// intervals where its id occurs, with and without the render cache, with
// reads smaller and larger than the session's part of an interval.
func TestSessionReadSkipsIntervals(t *testing.T) {
	for _, tc := range []struct {
		noCache bool
		k, read int // lines of session 2 per part, bytes per read
	}{{false, 3, 4096}, {true, 3, 4096}, {false, 400, 8192}, {true, 400, 8192}} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			noCache := tc.noCache
			d := newSandboxDir(t)
			sessionLog(d, 20000, tc.k, 5000, 15000) // about 2 MiB, 40 intervals
			sb := d.openWith(func(h *Home) {
				if noCache {
					h.SetCacheDir("")
				}
			})
			if _, err := sb.Stat(ViewMerged); err != nil {
				t.Fatal(err)
			}
			for _, nv := range sessionViews {
				s, err := sb.OpenSnapshot(nv.v.Session(2))
				if err != nil {
					t.Fatal(err)
				}
				got := readAllAt(t, s, s.Size(), tc.read)
				if two := twoStdout(tc.k); nv.name == "stdout" && string(got) != two+two {
					t.Fatalf("session 2 stdout = %q", got)
				}
				// The intervals holding session 2 (its lines and the ones
				// around them), plus a line or two.
				if p := s.seg.Parsed; (len(got) > 0 && p == 0) || p > int64(4*index.CheckpointEvery+2*len(sessionTwo(0, tc.k))+8192) {
					t.Fatalf("%s of session 2: parsed %d bytes of input to read %d bytes (the log is %d)", nv.name, p, len(got), fileSize(t, d.path(ExecLogName)))
				}
				s.Close()
			}
		})
	}
}

// TestSessionAppears: a session whose first entry is appended after the
// index was built is listed, statted and read once the held state
// expires; one of no entry is ENOENT meanwhile.
func TestSessionAppears(t *testing.T) {
	d := newSandboxDir(t)
	sessionLog(d, 3000, 3, 1000)
	clock := newFakeClock()
	sb := openClocked(t, d, clock)
	list, err := sb.Sessions()
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions = %+v, %v; want sessions 1 and 2", list, err)
	}
	checkNoSession(t, sb, 3)
	d.exec(jlID(5000, "output", "\x1b[1mthree\x1b[0m\r\n", 3))
	if list, err = sb.Sessions(); err != nil || len(list) != 2 {
		t.Fatalf("within HoldFor of the last state: Sessions = %+v, %v; want the held two", list, err)
	}
	clock.advance(HoldFor) // listed once the held state is HoldFor old
	if list, err = sb.Sessions(); err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[2].ID != 3 || list[2].Entries != 1 || list[2].Sources != 1<<SourceOutput {
		t.Fatalf("after an append: Sessions = %+v; want session 3 with one output entry", list)
	}
	if got := string(snap(t, sb, ViewMerged.Session(3))); got != tsAt(5000)+" output three\n" {
		t.Fatalf("merged of session 3 = %q", got)
	}
	checkSessions(t, d, sb, rand.New(rand.NewPCG(1, 2)))
}

// TestSessionViewRefused: only the views of the full merge have sessions.
func TestSessionViewRefused(t *testing.T) {
	d := newSandboxDir(t)
	sessionLog(d, 10, 3, 5)
	sb := d.open()
	for _, v := range []View{ViewSystem.Session(1), {Mask: 1 << SourceSystem, Format: FormatJSON, ByID: true, ID: 1}} {
		if _, err := sb.Stat(v); err == nil || !strings.Contains(err.Error(), "session views exist only") {
			t.Fatalf("Stat(%v): %v, want a refusal", v, err)
		}
		if _, err := sb.OpenSnapshot(v); err == nil {
			t.Fatalf("OpenSnapshot(%v) accepted a session of the system view", v)
		}
		if _, err := sb.OpenFollow(v); err == nil {
			t.Fatalf("OpenFollow(%v) accepted a session of the system view", v)
		}
	}
}

// TestSessionPersisted: a Home that restores the saved index lists the
// same sessions and reads the same session bytes; an index file whose ids
// section is corrupt (its checksum made right again) is rebuilt.
func TestSessionPersisted(t *testing.T) {
	d := newSandboxDir(t)
	sessionLog(d, 6000, 3, 3000)
	d.exec(jlID(7000, "stdout", "late\n", 9))
	dir := t.TempDir()
	first, restored := statWith(t, d, dir, ViewStdout)
	if restored {
		t.Fatal("the first Home found an index")
	}
	want, err := first.Sessions()
	if err != nil {
		t.Fatal(err)
	}
	wantBytes := snap(t, first, ViewMergedJSON.Session(2))
	sb, restored := statWith(t, d, dir, ViewStdout)
	if !restored {
		t.Fatal("a second Home built the index again")
	}
	got, err := sb.Sessions()
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("restored Sessions = %+v, %v; want %+v", got, err, want)
	}
	if one, err := sb.Session(9); err != nil || one.Entries != 1 {
		t.Fatalf("restored Session(9) = %+v, %v", one, err)
	}
	compareBytes(t, "restored session 2", snap(t, sb, ViewMergedJSON.Session(2)), wantBytes)

	files := indexFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("index files %v", files)
	}
	x := sb.indexes[MaskAll]
	saved := index.SavedIndex{Cps: x.Cps, End: x.End, Total: x.Total, Counts: x.Counts, Tail: x.Tail}
	for _, c := range []struct {
		what string
		bad  func(ids []index.IDStat)
	}{
		{"ids not increasing", func(ids []index.IDStat) { ids[0].ID, ids[1].ID = ids[1].ID, ids[0].ID }},
		{"a size past its interval's", func(ids []index.IDStat) { ids[1].Size[0] += 1 << 40 }},
		{"a negative size", func(ids []index.IDStat) { ids[1].Size[2] = -1 }},
		{"no entry", func(ids []index.IDStat) { ids[1].Entries = 0 }},
		{"a source of no exec entry", func(ids []index.IDStat) { ids[1].Sources = 1 << logline.NumSources }},
	} {
		rewriteIndexFile(t, files[0], &saved, c.bad)
		sb, restored = statWith(t, d, dir, ViewStdout)
		if restored {
			t.Fatalf("%s: the index file was trusted", c.what)
		}
		if got, err := sb.Sessions(); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: rebuilt Sessions = %+v, %v; want %+v", c.what, got, err, want)
		}
	}
}

// rewriteIndexFile rewrites the index file at path, whose content is
// saved, with bad applied to the ids of the first interval with two
// sessions, and a right checksum.
func rewriteIndexFile(t *testing.T, path string, saved *index.SavedIndex, bad func(ids []index.IDStat)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body := b[:len(b)-sha256.Size]
	enc := index.EncodeIndex(nil, saved)
	key := body[:len(body)-len(enc)]
	if !bytes.Equal(body[len(key):], enc) {
		t.Fatal("the index file does not hold the index")
	}
	c := *saved
	c.Cps = slices.Clone(saved.Cps)
	i := slices.IndexFunc(c.Cps, func(cp index.Checkpoint) bool { return len(cp.IDs) >= 2 })
	if i < 0 {
		t.Fatal("no interval with two sessions")
	}
	c.Cps[i].IDs = slices.Clone(c.Cps[i].IDs)
	bad(c.Cps[i].IDs)
	out := index.EncodeIndex(bytes.Clone(key), &c)
	sum := sha256.Sum256(out)
	if err := os.WriteFile(path, append(out, sum[:]...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSessionFollowAndReader: a follow of a session view sees only that
// session's entries, including ones appended later and a session that did
// not exist at its open; a Reader of a session view from the start does too.
func TestSessionFollowAndReader(t *testing.T) {
	d := newSandboxDir(t)
	sessionLog(d, 2000, 3, 1000)
	sb := d.open()
	f2 := openFollower(t, sb, ViewStdout.Session(2))
	f5 := openFollower(t, sb, ViewMerged.Session(5))
	if got := string(f2.read()); got != twoStdout(3) {
		t.Fatalf("follow of session 2 at its open: %q", got)
	}
	if got := f5.read(); len(got) != 0 {
		t.Fatalf("follow of session 5, which has no entry yet: %q", got)
	}
	d.exec(jlID(3000, "stdout", "one more of one\n", 1), jlID(3001, "stdout", "two again\n", 2), jlID(3002, "stderr", "five\n", 5))
	if got := string(f2.next()); got != "two again\n" {
		t.Fatalf("follow of session 2 after an append: %q", got)
	}
	if got := string(f5.next()); got != tsAt(3002)+" stderr five\n" {
		t.Fatalf("follow of session 5 after its first entry: %q", got)
	}
	m := buildModel(t, d.logs)
	v := ViewMergedJSON.Session(1)
	compareJSONL(t, "Reader of session 1", parseJSONL(t, readerAll(t, sb, v, State{})), m.jsonlOf(m.viewEntries(v)))
	if !bytes.Contains(snap(t, d.open(), ViewStderr.Session(5)), []byte("five")) {
		t.Fatal("session 5 is not in a new snapshot")
	}
}

// TestSessionFollowRandomAppends: followers of every session view of
// every id the adversary writes (some not written yet at their open),
// advanced after random appends (out-of-order times, text logs, partial
// lines, rotations), end up holding exactly the model's entries of their
// session: the raw views byte for byte (exec order), the others as the
// same multiset of lines or entries (a follower shows arrival order).
func TestSessionFollowRandomAppends(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			d, g, sb := adversarySandbox(t, 200+seed, 1<<30, 4<<10, false)
			rng := rand.New(rand.NewPCG(seed, 9))
			type followed struct {
				v     View
				fl    *follower
				shown []byte
			}
			var fls []*followed
			for _, id := range []uint64{0, 1, 2, 3, 1<<64 - 1} {
				for _, nv := range sessionViews {
					fl := openFollower(t, sb, nv.v.Session(id))
					fls = append(fls, &followed{v: nv.v.Session(id), fl: fl, shown: fl.read()})
				}
			}
			for round := range 8 {
				if rng.IntN(3) == 0 {
					g.stepBack(time.Duration(rng.IntN(2000)) * time.Millisecond)
				}
				if round == 4 {
					g.flush()
					d.rotate()
				}
				g.write(rng.IntN(6<<10), rng.IntN(2) == 0)
				for _, f := range fls {
					f.shown = append(f.shown, f.fl.next()...)
				}
			}
			g.write(0, false)
			m := buildModel(t, d.logs)
			nonEmpty := 0
			for _, f := range fls {
				f.shown = append(f.shown, f.fl.next()...)
				name := fmt.Sprintf("follow of %v", f.v)
				switch f.v.Format {
				case FormatRaw:
					compareBytes(t, name, f.shown, m.render(f.v))
				case FormatText:
					got, w := splitLines(f.shown), splitLines(m.render(f.v))
					slices.Sort(got)
					slices.Sort(w)
					if !slices.Equal(got, w) {
						t.Fatalf("%s: %d lines, the model %d, not the same multiset", name, len(got), len(w))
					}
				case FormatJSON:
					if got, w := entryKeys(parseJSONL(t, f.shown)), entryKeys(m.jsonlOf(m.viewEntries(f.v))); !slices.Equal(got, w) {
						t.Fatalf("%s: %d entries, the model %d, not the same set", name, len(got), len(w))
					}
				}
				if len(f.shown) > 0 {
					nonEmpty++
				}
			}
			if nonEmpty < 15 {
				t.Fatalf("only %d of %d followers showed anything: the corpus does not exercise them", nonEmpty, len(fls))
			}
		})
	}
}

// TestScanSessions: a Scanner of some session ids yields exactly the
// model's entries of those sessions, in merge order, with their merged
// cursors; a Replay counts only those entries.
func TestScanSessions(t *testing.T) {
	d, _, sb := adversarySandbox(t, 21, 20<<10, 100<<10, false)
	m := buildModel(t, d.logs)
	all, curs := m.merge(logline.MaskDefault) // exec only: the text logs' positions stay at their start
	var want []scanned
	for i, e := range all {
		if e.id != nil && (*e.id == 1 || *e.id == 3) {
			want = append(want, scanned{string(e.body), curs[i].String()})
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d entries of sessions 1 and 3", len(want))
	}
	q := Query{Mask: logline.MaskDefault, IDs: []uint64{3, 1}}
	if got := scanEntries(t, sb, q); !slices.Equal(got, want) {
		t.Fatalf("Scanner of sessions 1 and 3: %d entries, the model %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	sc := sb.NewScanner(q)
	defer sc.Close()
	if err := sc.Next(func(*Entry, *State) error { return nil }); err != nil { // Replay reads the files of the last pass
		t.Fatal(err)
	}
	var got []string
	if err := sc.Replay(State{}, 5, func(e *Entry, _ *State) error { got = append(got, string(e.Body)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[4] != want[4].body {
		t.Fatalf("Replay of 5 entries of sessions 1 and 3: %q, want the model's first five", got)
	}
}

func firstDiff(a, b []scanned) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}
