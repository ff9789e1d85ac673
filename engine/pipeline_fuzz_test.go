package engine

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// The whole-pipeline fuzz targets: arbitrary bytes as log files, through
// the engine's every way of reading them, against the model of
// model_test.go. Run one with
//
//	go test -run='^$' -fuzz='^FuzzSandbox$' -fuzztime=60s ./engine/

// maxFuzzFile bounds each fuzzed file, so that an iteration stays fast.
const maxFuzzFile = 4 << 10

// FuzzSandbox: any bytes as exec.log, a rotated exec.log.1, runtime.log and
// kernel.log. Every view equals the model's rendering (raw views are the
// model's chunks), Stat's size is the bytes a snapshot reads (whole and in
// small pieces), a Reader and a Scanner from the start agree with it, and
// every entry's cursor resumes (StateAt, then a Reader and a Scanner) to
// the entries after it (checkEveryResume says how far each is read).
// Nothing panics.
//
// Every iteration writes its files at the same paths and opens a Home of
// its own: see openFuzzSandbox.
func FuzzSandbox(f *testing.F) {
	stamp := []byte(jl(0, "stdout", "a\n") + jl(1, "stderr", "b") + jl(2, "system", "boot"))
	f.Add([]byte(jl(5, "output", "new\n")), stamp, []byte(rl(3, "runtime\nunstamped\n")), []byte("[ 1.5] kernel\n"))
	f.Add([]byte(jl(0, "stdout", "x")), []byte(jl(1, "stdout", "tail without newline")), []byte(""), []byte(""))
	f.Add([]byte{}, []byte{}, []byte(joinLines(stampOnlyLines)), []byte("\x1b[32m2026-05-01T10:00:05Z\x1b[0m\n  2026-05-01T10:00:06Z\n"))
	f.Add([]byte(`{"t":"2016-12-31T23:59:60.5Z","s":"stdout","d":"leap\n"}`+"\n"+`{"t":"0000-01-01T00:00:00+00:01","s":"stdout","d":"x"}`+"\n"),
		[]byte(`{"t":"9999-12-31T23:59:60.999Z","s":"stderr","d":"/w==","e":"b64"}`+"\n"),
		[]byte("0000-01-01T00:00:00Z year 0\n2016-12-31T23:59:60Z\n"), []byte("[99999999999999.5] too long\n[ 3.0]\n"))
	f.Add([]byte("\n\n{not json\n"+`{"t":"2026-05-01T10:00:00Z","s":"nope"}`+"\n"), []byte("\xff\xfe\n"), []byte("\xff bytes \x00\r\n"), []byte("\r\n"))
	var exec, runtime strings.Builder // past resumeWhole entries
	for i := range 50 {
		exec.WriteString(jl(int64(2*i), []string{"stdout", "stderr", "output"}[i%3], fmt.Sprintf("line %d\n", i)))
		if i%5 != 4 {
			runtime.WriteString(rl(int64(2*i+1), fmt.Sprintf("r%d\n", i)))
		}
	}
	f.Add([]byte(exec.String()), []byte{}, []byte(runtime.String()), []byte("[ 0.5] k\n"))
	base := f.TempDir()
	defer minimizeAtMost(f, pipelineMinimize)()
	f.Fuzz(func(t *testing.T, exec, exec1, runtime, kernel []byte) {
		checkSandboxFiles(t, base, exec, exec1, runtime, kernel)
	})
}

// pipelineMinimize is how long FuzzSandbox minimizes an input unless
// -fuzzminimizetime says otherwise: 100 runs. Go minimizes every input that
// finds new coverage, running the target once for each byte and each range
// of bytes it tries to remove, for up to a minute by default; at
// milliseconds a run, a fuzzing run of a few seconds would do nothing else.
const pipelineMinimize = "100x"

// minimizeAtMost sets -fuzzminimizetime to limit unless the command line
// set it, until the returned restore is called. The fuzzing coordinator
// reads the flag in F.Fuzz.
func minimizeAtMost(f *testing.F, limit string) (restore func()) {
	const name = "test.fuzzminimizetime"
	fl := flag.Lookup(name)
	given := false
	flag.Visit(func(v *flag.Flag) { given = given || v.Name == name })
	if fl == nil || given {
		return func() {}
	}
	was := fl.Value.String()
	if err := fl.Value.Set(limit); err != nil {
		f.Fatalf("-%s=%s: %v", name, limit, err)
	}
	return func() { _ = fl.Value.Set(was) }
}

// checkSandboxFiles is the body of FuzzSandbox: the files of one iteration,
// written in a home under base.
func checkSandboxFiles(t *testing.T, base string, exec, exec1, runtime, kernel []byte) {
	if len(exec) > maxFuzzFile || len(exec1) > maxFuzzFile || len(runtime) > maxFuzzFile || len(kernel) > maxFuzzFile {
		return
	}
	d, sb := openFuzzSandbox(t, base, []namedFile{{chain.ChainName(1), exec1}, {ExecLogName, exec}, {RuntimeLogName, runtime}, {KernelLogName, kernel}})
	views := checkViews(t, d, sb)
	s, err := sb.OpenSnapshot(ViewMerged)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	compareBytes(t, "merged read in 7-byte pieces", readAllAt(t, s, s.Size(), 7), views["merged"])
	checkEveryResume(t, sb)
}

// namedFile is a log file's name and content.
type namedFile struct {
	name string
	data []byte
}

// openFuzzSandbox writes files (those that are empty left out, except
// exec.log) as sandbox "sb" of the home <base>/home, and opens it through
// a Home of its own, closed and removed when t ends. What the fuzzer
// measures of an iteration then follows from its input alone:
//   - the paths are the same at every iteration of a worker (t.TempDir
//     names each directory with a random number, whose length changes the
//     coverage counts of the code that handles paths, and a changed count
//     is new coverage to the fuzzer, which then spends up to a minute
//     minimizing the input);
//   - the Home is opened before its directory exists, so it watches
//     nothing: closing an inotify instance that holds a watch waits for the
//     kernel to free the watch, longer than the rest of an iteration;
//   - its clock stands still at the open, so the hold of a shown state
//     (HoldFor) never ends during the iteration, however slow, and the
//     sweeper (idle time an hour) never runs.
func openFuzzSandbox(t *testing.T, base string, files []namedFile) (*tdir, *Sandbox) {
	t.Helper()
	home := filepath.Join(base, "home")
	if err := os.RemoveAll(home); err != nil { // left by an iteration that failed
		t.Fatal(err)
	}
	opened := time.Now()
	h, err := openHome(home, homeConfig{now: func() time.Time { return opened }, idleAfter: time.Hour, maxLive: defaultMaxLive})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(home); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() { h.Close() }) // before the removal: cleanups run last first
	d := mkSandbox(t, home, "sb")
	for _, f := range files {
		if len(f.data) > 0 || f.name == ExecLogName {
			d.writeFile(f.name, string(f.data))
		}
	}
	sb, err := h.Sandbox(d.name)
	if err != nil {
		t.Fatal(err)
	}
	return d, sb
}

// FuzzCursorPositions: a cursor with any position in each origin, against
// real files: an exec position past its file's end or inside a line is
// invalid (ErrInvalidCursor, nothing read); a text position that is not at
// a line start of the current file restarts that file; a valid cursor
// resumes to exactly the model's entries after it, with the right times. A
// state with the same positions never panics the merger.
func FuzzCursorPositions(f *testing.F) {
	d := newSandboxDir(f)
	d.exec(jl(0, "stdout", "old\n"), jl(1, "stderr", "older\n"))
	d.appendRaw(ExecLogName, jl(2, "stdout", "tail")[:30])
	d.rotate()
	d.exec(jl(3, "stdout", "new\n"), jl(6, "output", "newer\n"))
	d.runtime(rl(2, "r1"), "unstamped r", rl(5, "r2"), "")
	d.kernel("k0", "[ 1.25] k1", "k2")
	m := buildModel(f, d.logs)
	var gens [logline.NumOrigins][]uint64
	var sizes = map[uint64]uint64{}
	var data = map[uint64][]byte{}
	for _, name := range []string{chain.ChainName(1), ExecLogName, RuntimeLogName, KernelLogName} {
		gen := inodeOf(f, d.path(name))
		o := map[string]logline.Origin{RuntimeLogName: logline.OriginRuntime, KernelLogName: logline.OriginKernel}[name]
		gens[o] = append(gens[o], gen)
		b, err := os.ReadFile(d.path(name))
		if err != nil {
			f.Fatal(err)
		}
		sizes[gen], data[gen] = uint64(len(b)), b
	}
	for _, seed := range [][6]uint64{
		{0, 0, 0, 0, 0, 0}, {1, 1 << 63, 0, 0, 0, 0}, {2, 1<<64 - 1, 1, 1 << 63, 1, 1<<64 - 1},
		{1, 50, 1, 10, 1, 3}, {2, 0, 1, 0, 1, 0}, {3, 7, 3, 7, 3, 7}, {1, sizes[gens[0][0]], 1, sizes[gens[1][0]], 1, sizes[gens[2][0]]},
		{1, sizes[gens[0][0]] + 1, 1, sizes[gens[1][0]] + 1, 1, 4},
	} {
		f.Add(uint8(seed[0]), seed[1], uint8(seed[2]), seed[3], uint8(seed[4]), seed[5])
	}
	sb := d.open()
	f.Fuzz(func(t *testing.T, g0 uint8, o0 uint64, g1 uint8, o1 uint64, g2 uint8, o2 uint64) {
		var c Cursor
		for o, in := range [logline.NumOrigins]struct {
			g   uint8
			off uint64
		}{{g0, o0}, {g1, o1}, {g2, o2}} {
			c[o] = fuzzPos(gens[o], sizes, in.g, in.off)
		}
		if c2, err := ParseCursor(c.String()); err != nil || c2 != c {
			if err == nil || !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("cursor %v: decoded as %v, %v", c, c2, err)
			}
			return // a position with an offset and no file: refused by the decoder
		}
		files, err := chain.OpenFileSet(sb.table)
		if err != nil {
			t.Fatal(err)
		}
		defer files.Release()
		drainMerger(files, State{Cursor: c})

		st, err := sb.StateAt(c)
		valid, want := modelAfter(m, gens, data, c)
		if !valid {
			if !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("cursor %v: StateAt gave %v, want ErrInvalidCursor", c, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("cursor %v: StateAt: %v", c, err)
		}
		var wantText, wantBodies []byte
		for _, e := range want {
			wantText = append(wantText, modelText(e)...)
			wantBodies = append(wantBodies, e.body...)
		}
		compareBytes(t, fmt.Sprintf("merged after %v", c), readerAll(t, sb, ViewMerged, st), wantText)
		var got []byte
		for _, e := range scanEntries(t, sb, Query{Mask: MaskAll, From: st}) {
			got = append(got, e.body...)
		}
		compareBytes(t, fmt.Sprintf("scanned after %v", c), got, wantBodies)
	})
}

// fuzzPos makes a position of an origin from fuzzed numbers: g picks the
// start, one of the origin's files or a foreign inode; a small off is
// folded into the file (so that line starts and ends are often hit), a
// large one is kept as is.
func fuzzPos(gens []uint64, sizes map[uint64]uint64, g uint8, off uint64) logline.Pos {
	switch {
	case g == 0:
		return logline.Pos{Offset: off}
	case int(g) > len(gens):
		return logline.Pos{Gen: 1<<40 + uint64(g), Offset: off}
	}
	gen := gens[g-1]
	if off < 1<<32 {
		off %= sizes[gen] + 2
	}
	return logline.Pos{Gen: gen, Offset: off}
}

// modelAfter says whether the model finds cursor c valid, and which
// entries come after it: per origin, those past its position (a text
// position that is not at a line start of the current file counts as the
// start), merged.
func modelAfter(m *model, gens [logline.NumOrigins][]uint64, data map[uint64][]byte, c Cursor) (bool, []mEntry) {
	lineStart := func(gen, off uint64) bool {
		b, ok := data[gen]
		return ok && off <= uint64(len(b)) && (off == 0 || b[off-1] == '\n')
	}
	after := &model{}
	for o := range logline.NumOrigins {
		p := c[o]
		idx := -1 // the file's place in the origin's files, oldest first
		for i, g := range gens[o] {
			if g == p.Gen {
				idx = i
			}
		}
		switch {
		case p.IsStart():
		case o == logline.OriginExec && idx < 0:
			return false, nil
		case o == logline.OriginExec && !lineStart(p.Gen, p.Offset) &&
			!(idx < len(gens[o])-1 && p.Offset == uint64(len(data[p.Gen]))):
			return false, nil
		case o != logline.OriginExec && (idx < 0 || !lineStart(p.Gen, p.Offset)):
			p = logline.Pos{}
		}
		for _, e := range m.origins[o] {
			ei := -1
			for i, g := range gens[o] {
				if g == e.end.Gen {
					ei = i
				}
			}
			if p.IsStart() || ei > idx || (ei == idx && e.end.Offset > p.Offset) {
				after.origins[o] = append(after.origins[o], e)
			}
		}
	}
	es, _ := after.merge(MaskAll)
	return true, es
}
