package msbwriter

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var knownSources = map[string]bool{"stdout": true, "stderr": true, "output": true, "system": true}

// execStats is what a test learns by reading a corpus's exec chain.
type execStats struct {
	files, bytes, lines, malformed, big, binary int
	sources                                     map[string]int
	ids                                         []uint64
	lastTime                                    time.Time
	nonMonotonic                                int
}

// classify parses one exec line the way a strict reader would.
func (st *execStats) classify(line []byte) {
	st.lines++
	if len(line) >= 1<<20 {
		st.big++
	}
	var w wireLine
	if json.Unmarshal(line, &w) != nil || !knownSources[w.S] {
		st.malformed++
		return
	}
	ts, err := time.Parse(time.RFC3339Nano, w.T)
	if err != nil {
		st.malformed++
		return
	}
	if ts.Before(st.lastTime) {
		st.nonMonotonic++
	}
	st.lastTime = ts
	st.sources[w.S]++
	if w.E == "b64" {
		st.binary++
	}
	if w.ID != nil && (len(st.ids) == 0 || st.ids[len(st.ids)-1] != *w.ID) {
		st.ids = append(st.ids, *w.ID)
	}
}

func readChain(t *testing.T, dir string) execStats {
	t.Helper()
	st := execStats{sources: map[string]int{}}
	for i := ChainLen - 1; i >= 0; i-- {
		b, err := os.ReadFile(filepath.Join(dir, ChainName(i)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		must(t, err)
		st.files++
		st.bytes += len(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Fatalf("%s ends in a partial line", ChainName(i))
		}
		for _, line := range bytes.SplitAfter(b, []byte("\n")) {
			if len(line) > 0 {
				st.classify(bytes.TrimSuffix(line, []byte("\n")))
			}
		}
	}
	return st
}

func TestGenerateCorpus(t *testing.T) {
	const total, rotateAt = 6 << 20, 2 << 20
	home := t.TempDir()
	rep, err := GenerateCorpusReport(home, "bench", CorpusOptions{TotalBytes: total, RotateAt: rotateAt, Seed: 42})
	must(t, err)
	dir := LogsDir(home, "bench")
	st := readChain(t, dir)
	if st.bytes < total*9/10 || st.bytes > total+(1<<20) {
		t.Errorf("exec chain holds %d bytes, want about %d", st.bytes, total)
	}
	if st.files < 3 || st.files > ChainLen || rep.Dropped || int64(st.bytes) != rep.ExecBytes {
		t.Errorf("%d files, %d bytes, report %+v", st.files, st.bytes, rep)
	}
	if st.big < 2 || st.big != rep.BigChunks {
		t.Errorf("%d lines of >= 1 MiB (report %d), want >= 2", st.big, rep.BigChunks)
	}
	if st.malformed == 0 || int64(st.malformed) != rep.Malformed || int64(st.lines-st.malformed) != rep.Chunks {
		t.Errorf("malformed %d of %d lines; report %+v", st.malformed, st.lines, rep)
	}
	if st.binary == 0 || int64(st.binary) != rep.Binary {
		t.Errorf("binary chunks %d, report %d", st.binary, rep.Binary)
	}
	if st.nonMonotonic != 0 {
		t.Errorf("%d timestamps go backwards", st.nonMonotonic)
	}
	checkMix(t, st)
	if len(st.ids) < 2 || len(st.ids) > 8 || st.ids[0] != 1 || uint64(len(st.ids)) != rep.Sessions {
		t.Errorf("session ids in order of appearance: %v (report %d)", st.ids, rep.Sessions)
	}
	for i := 1; i < len(st.ids); i++ {
		if st.ids[i] != st.ids[i-1]+1 {
			t.Errorf("session ids not increasing: %v", st.ids)
		}
	}
	checkTextLogs(t, dir, rep)
}

// checkMix checks the share of each source among well-formed lines.
func checkMix(t *testing.T, st execStats) {
	t.Helper()
	n := float64(st.lines - st.malformed)
	share := func(s string) float64 { return float64(st.sources[s]) / n }
	if share("stdout") < 0.7 || share("stderr") < 0.07 || share("stderr") > 0.13 ||
		share("output") < 0.03 || share("output") > 0.07 || share("system") < 0.005 || share("system") > 0.02 {
		t.Errorf("source mix %v of %v lines", st.sources, n)
	}
}

var (
	runtimeRE = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (INFO|WARN|DEBUG|ERROR) runtime: .+|    \S.*)$`)
	// The corpus's kernel lines carry the host's time before the uptime
	// stamp (see kernelLine); RunLive writes uptime stamps only, as a
	// real guest console does.
	kernelRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \[ *\d+\.\d{6}\] .+$`)
	uptimeRE = regexp.MustCompile(`^\[ *\d+\.\d{6}\] .+$`)
)

func checkTextLogs(t *testing.T, dir string, rep CorpusReport) {
	t.Helper()
	for _, f := range []struct {
		name  string
		re    *regexp.Regexp
		lines int64
	}{{RuntimeLog, runtimeRE, rep.RuntimeLines}, {KernelLog, kernelRE, rep.KernelLines}} {
		lines := bytes.Split(bytes.TrimSuffix(readFile(t, dir, f.name), []byte("\n")), []byte("\n"))
		if int64(len(lines)) != f.lines || len(lines) < 5 {
			t.Errorf("%s: %d lines, report %d", f.name, len(lines), f.lines)
		}
		for _, l := range lines {
			if !f.re.Match(l) {
				t.Errorf("%s: bad line %q", f.name, l)
			}
		}
	}
}

func TestGenerateCorpusDeterministic(t *testing.T) {
	opts := CorpusOptions{TotalBytes: 3 << 20, RotateAt: 1 << 20, Seed: 7, Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a, b := t.TempDir(), t.TempDir()
	must(t, GenerateCorpus(a, "x", opts))
	must(t, GenerateCorpus(b, "x", opts))
	opts.Seed = 8
	c := t.TempDir()
	must(t, GenerateCorpus(c, "x", opts))
	names := []string{RuntimeLog, KernelLog}
	for i := 0; i < ChainLen; i++ {
		names = append(names, ChainName(i))
	}
	for _, n := range names {
		fa, erra := os.ReadFile(filepath.Join(LogsDir(a, "x"), n))
		fb, errb := os.ReadFile(filepath.Join(LogsDir(b, "x"), n))
		if (erra == nil) != (errb == nil) || !bytes.Equal(fa, fb) {
			t.Errorf("%s differs between two runs with the same seed", n)
		}
	}
	ea := readFile(t, LogsDir(a, "x"), ExecLog)
	if bytes.Equal(ea, readFile(t, LogsDir(c, "x"), ExecLog)) {
		t.Error("different seeds gave the same exec.log")
	}
	first := readFile(t, LogsDir(a, "x"), ChainName(3))
	if !bytes.HasPrefix(first, []byte(`{"t":"2026-01-02T03:04:05.000000Z","s":"system"`)) {
		t.Errorf("corpus does not start at Start: %.80s", first)
	}
	// Kernel lines are on the corpus's timeline, not dated at generation.
	kernel := readFile(t, LogsDir(a, "x"), KernelLog)
	if !bytes.HasPrefix(kernel, []byte("2026-01-02T03:04:05.000000Z [    0.350000] Linux version")) {
		t.Errorf("kernel.log does not start at Start: %.80s", kernel)
	}
}

func TestGenerateCorpusDropsWhenOversized(t *testing.T) {
	home := t.TempDir()
	rep, err := GenerateCorpusReport(home, "x", CorpusOptions{TotalBytes: 4 << 20, RotateAt: 256 << 10, Seed: 1})
	must(t, err)
	st := readChain(t, LogsDir(home, "x"))
	if !rep.Dropped || st.files != ChainLen || rep.ExecBytes < 4<<20 || int64(st.bytes) >= rep.ExecBytes {
		t.Errorf("report %+v, chain %d files %d bytes", rep, st.files, st.bytes)
	}
}

func TestGenerateCorpusRejectsZero(t *testing.T) {
	if err := GenerateCorpus(t.TempDir(), "x", CorpusOptions{}); err == nil {
		t.Fatal("TotalBytes 0 accepted")
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{"4096": 4096, "200MiB": 200 << 20, "40M": 40 << 20, "256kib": 256 << 10,
		"1.5GiB": 3 << 29, "10MB": 10_000_000, " 7 B ": 7, "1g": 1 << 30, "2K": 2048}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "10 XB", "1..2M", "-5M", "1e30G"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func BenchmarkGenerateCorpus(b *testing.B) {
	const total = 32 << 20
	b.SetBytes(total)
	for b.Loop() {
		if err := GenerateCorpus(b.TempDir(), "x", CorpusOptions{TotalBytes: total, RotateAt: 8 << 20, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGenerateCorpusInterleavedSessions: with Sessions and Interleave,
// ids 1..Sessions all appear, about
// Interleave of them live at once and never more, each with a share of
// the bytes; the same options give the same bytes. (A session's markers
// are system entries, which have no id.)
func TestGenerateCorpusInterleavedSessions(t *testing.T) {
	home := t.TempDir()
	opts := CorpusOptions{TotalBytes: 8 << 20, RotateAt: 2 << 20, Seed: 3, Sessions: 40, Interleave: 4}
	rep, err := GenerateCorpusReport(home, "x", opts)
	must(t, err)
	if rep.Sessions != 40 {
		t.Fatalf("report says %d sessions, want 40", rep.Sessions)
	}
	first, last := map[uint64]int{}, map[uint64]int{}
	bytesOf := map[uint64]int{}
	n := 0
	for i := ChainLen - 1; i >= 0; i-- {
		b, err := os.ReadFile(filepath.Join(LogsDir(home, "x"), ChainName(i)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		must(t, err)
		for _, line := range bytes.SplitAfter(b, []byte("\n")) {
			var w wireLine
			if json.Unmarshal(line, &w) != nil || w.ID == nil {
				continue
			}
			if *w.ID < 1 || *w.ID > 40 {
				t.Fatalf("session id %d, want 1..40", *w.ID)
			}
			if _, ok := first[*w.ID]; !ok {
				first[*w.ID] = n
			}
			last[*w.ID] = n
			bytesOf[*w.ID] += len(line)
			n++
		}
	}
	if len(first) != 40 {
		t.Fatalf("%d sessions in the chain, want 40", len(first))
	}
	most := 0
	for k := 0; k < n; k += 97 {
		live := 0
		for id, f := range first {
			if f <= k && k <= last[id] {
				live++
			}
		}
		most = max(most, live)
	}
	if most != 4 {
		t.Fatalf("at most %d sessions live at once, want 4", most)
	}
	share := (8<<20 - 2*(5<<20/4) - 40*markerBytes) / 44
	for id := uint64(1); id <= 36; id++ { // the last ones run to the end
		if n := bytesOf[id]; n < share*9/10 || (n > 2*share && n < 1<<20) { // malformed lines count for the writer
			t.Fatalf("session %d has %d bytes, far from its share %d", id, n, share)
		}
	}
	again := t.TempDir()
	must(t, GenerateCorpus(again, "x", opts))
	if !bytes.Equal(readFile(t, LogsDir(home, "x"), ExecLog), readFile(t, LogsDir(again, "x"), ExecLog)) {
		t.Fatal("the same options gave other bytes")
	}
	if err := GenerateCorpus(t.TempDir(), "x", CorpusOptions{TotalBytes: 1, Sessions: -1}); err == nil {
		t.Fatal("Sessions -1 accepted")
	}
}
