package engine

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// The benchmarks share one realistic corpus, generated once per `go test
// -bench` run (MSB_BENCH_MB megabytes, default 64) into a temporary home
// that TestMain removes. Every benchmark sets b.SetBytes to the size of
// the sandbox's log files, so MB/s figures compare directly with
// BenchmarkCat, which reads the same files with os.File.Read.
//
//	go test -run='^$' -bench=. -benchmem ./engine/

func TestMain(m *testing.M) {
	// Homes that keep the default cache dir write their caches and saved
	// indexes here, not to /var/tmp.
	cache, err := os.MkdirTemp("", "msb-logfs-engine-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("MSB_LOGFS_CACHE_DIR", cache)
	code := m.Run()
	os.RemoveAll(cache)
	if benchHome != "" {
		os.RemoveAll(benchHome)
	}
	removeManyHomes()
	os.Exit(code)
}

var (
	benchOnce  sync.Once
	benchHome  string
	benchInput int64 // bytes of all log files
	benchErr   error
)

// benchCorpus returns the home of the benchmark corpus (sandbox "bench").
func benchCorpus(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		mb := 64
		if s := os.Getenv("MSB_BENCH_MB"); s != "" {
			if mb, benchErr = strconv.Atoi(s); benchErr != nil {
				return
			}
		}
		if benchHome, benchErr = os.MkdirTemp("", "msb-logfs-bench-"); benchErr != nil {
			return
		}
		start := time.Now()
		benchInput, benchErr = writeBenchCorpus(benchHome, int64(mb)<<20)
		b.Logf("corpus: %d MiB in %v", benchInput>>20, time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchHome
}

// writeBenchCorpus writes the benchmark sandbox with msbwriter's corpus
// generator (the one corpus of the project: stdout, stderr, PTY output and
// lifecycle chunks, unicode, ANSI colours, 0.1 % malformed lines, 1 MiB
// chunks, runtime and kernel lines), rotated so that the whole corpus stays
// in the five-file chain, and returns the bytes of its log files.
func writeBenchCorpus(home string, total int64) (int64, error) {
	err := msbwriter.GenerateCorpus(home, "bench", msbwriter.CorpusOptions{TotalBytes: total, RotateAt: total/(ChainLen-1) + 1, Seed: 42})
	if err != nil {
		return 0, err
	}
	return dirSize(filepath.Join(home, "sandboxes", "bench", "logs"))
}

// dirSize returns the bytes of the files in dir.
func dirSize(dir string) (int64, error) {
	ents, err := os.ReadDir(dir)
	var n int64
	for _, e := range ents {
		fi, ierr := e.Info()
		if ierr != nil {
			return 0, ierr
		}
		n += fi.Size()
	}
	return n, err
}

// cpuMeter measures the CPU time (user and system, all threads) the
// process spends from now until the returned function reports it, as
// cpu-ms/op: on a shared machine, where wall time moves with the load,
// it tells a change of work from a change of load, and against ns/op
// how many cores a benchmark kept busy.
func cpuMeter(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op")
		}
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSandbox opens the corpus with its index built, with or without
// the render cache (without it, every read parses and renders).
func benchSandbox(b *testing.B, cache bool) *Sandbox {
	b.Helper()
	sb := openBenchSandbox(b, benchCorpus(b), "bench", cache)
	for _, v := range []View{ViewMerged, ViewSystem} {
		if _, err := sb.Stat(v); err != nil {
			b.Fatal(err)
		}
	}
	return sb
}

// openBenchSandbox opens sandbox name of home through a Home closed at
// the end of the benchmark, with or without the render cache.
func openBenchSandbox(b *testing.B, home, name string, cache bool) *Sandbox {
	b.Helper()
	h, err := OpenHome(home)
	if err != nil {
		b.Fatal(err)
	}
	if !cache {
		h.SetCacheDir("")
	}
	b.Cleanup(func() { h.Close() })
	sb, err := h.Sandbox(name)
	if err != nil {
		b.Fatal(err)
	}
	return sb
}

// BenchmarkCat is the reference: the sandbox's log files read sequentially
// with os.File.Read in 128 KiB chunks.
func BenchmarkCat(b *testing.B) {
	home := benchCorpus(b)
	logs := filepath.Join(home, "sandboxes", "bench", "logs")
	names := []string{RuntimeLogName, KernelLogName}
	for i := ChainLen - 1; i >= 0; i-- {
		names = append(names, chain.ChainName(i))
	}
	buf := make([]byte, 128<<10)
	b.SetBytes(benchInput)
	b.ResetTimer()
	for b.Loop() {
		for _, n := range names {
			f, err := os.Open(filepath.Join(logs, n))
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				b.Fatal(err)
			}
			for {
				_, err := f.Read(buf)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			f.Close()
		}
	}
}

// benchView reads a snapshot of v sequentially in 128 KiB reads.
func benchView(b *testing.B, v View, cache bool) {
	sb := benchSandbox(b, cache)
	buf := make([]byte, 128<<10)
	b.SetBytes(benchInput)
	var out int64
	b.ResetTimer()
	defer cpuMeter(b)()
	for b.Loop() {
		s, err := sb.OpenSnapshot(v)
		if err != nil {
			b.Fatal(err)
		}
		out = 0
		for off := int64(0); off < s.Size(); {
			n, err := s.ReadAt(buf, off)
			if err != nil && err != io.EOF {
				b.Fatal(err)
			}
			off += int64(n)
			out += int64(n)
		}
		s.Close()
	}
	b.ReportMetric(float64(out)/float64(benchInput), "out/in")
}

// BenchmarkReadStdout: parsing and rendering of the raw stdout view.
func BenchmarkReadStdout(b *testing.B) { benchView(b, ViewStdout, false) }

// BenchmarkReadStdoutSerial: BenchmarkReadStdout without parse-ahead.
func BenchmarkReadStdoutSerial(b *testing.B) { serial(BenchmarkReadStdout)(b) }

// BenchmarkReadMerged: the merged text view.
func BenchmarkReadMerged(b *testing.B) { benchView(b, ViewMerged, false) }

// BenchmarkReadMergedSerial: BenchmarkReadMerged without parse-ahead.
func BenchmarkReadMergedSerial(b *testing.B) { serial(BenchmarkReadMerged)(b) }

// serial runs bench with parse-ahead off: the reference for its gain,
// measured in the same run (name the benchmark …Serial).
func serial(bench func(*testing.B)) func(*testing.B) {
	return func(b *testing.B) {
		c := *chain.AheadNow()
		c.Workers = 1
		defer chain.SetAhead(&c)()
		bench(b)
	}
}

// BenchmarkReadMergedJSON: merged.jsonl.
func BenchmarkReadMergedJSON(b *testing.B) { benchView(b, ViewMergedJSON, false) }

// BenchmarkReadSystem: the system view (its own index and merge).
func BenchmarkReadSystem(b *testing.B) { benchView(b, ViewSystem, false) }

// BenchmarkReadMergedCached: merged read again, with the render cache
// (every iteration after the first reads rendered chunks back).
func BenchmarkReadMergedCached(b *testing.B) { benchView(b, ViewMerged, true) }

// BenchmarkRandomRead4K: 4 KiB reads of merged at random offsets, as a
// pager or a FUSE client seeking around would do.
func BenchmarkRandomRead4K(b *testing.B) {
	sb := benchSandbox(b, false)
	s, err := sb.OpenSnapshot(ViewMerged)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.ReadAt(buf, rng.Int64N(s.Size())); err != nil && err != io.EOF {
			b.Fatal(err)
		}
	}
}

// benchStat is the first Stat of v on a fresh Home, which builds v's
// index over the whole corpus; with cacheDir, a fresh cache dir of its
// own (where the index is saved), else none.
func benchStat(b *testing.B, v View, cacheDir bool) {
	home := benchCorpus(b)
	b.SetBytes(benchInput)
	b.ResetTimer()
	defer cpuMeter(b)()
	for b.Loop() {
		dir := ""
		if cacheDir {
			dir = b.TempDir()
		}
		statFresh(b, home, dir, v)
	}
}

// statFresh stats v of the bench sandbox on a fresh Home of home with
// cache dir dir ("" for none).
func statFresh(b *testing.B, home, dir string, v View) {
	h, err := OpenHome(home)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	h.SetCacheDir(dir)
	sb, err := h.Sandbox("bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sb.Stat(v); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIndexBuild: Stat of merged on a fresh Home builds the index
// over the whole corpus.
func BenchmarkIndexBuild(b *testing.B) { benchStat(b, ViewMerged, false) }

// BenchmarkIndexBuildSystem: the same for the system stream's index (its
// own merge, see docs/engine.md).
func BenchmarkIndexBuildSystem(b *testing.B) { benchStat(b, ViewSystem, false) }

// BenchmarkIndexBuildSerial: BenchmarkIndexBuild without parse-ahead.
func BenchmarkIndexBuildSerial(b *testing.B) { serial(BenchmarkIndexBuild)(b) }

// BenchmarkIndexSize reports the memory the sparse indexes take, in bytes
// and as a percentage of the input.
func BenchmarkIndexSize(b *testing.B) {
	sb := benchSandbox(b, false)
	for b.Loop() {
		if _, err := sb.Stat(ViewMerged); err != nil {
			b.Fatal(err)
		}
	}
	sb.mu.Lock()
	var cps int
	for _, x := range sb.indexes {
		cps += len(x.Cps)
	}
	sb.mu.Unlock()
	size := float64(cps) * float64(unsafe.Sizeof(index.Checkpoint{}))
	b.ReportMetric(float64(cps), "checkpoints")
	b.ReportMetric(size, "index-bytes")
	b.ReportMetric(100*size/float64(benchInput), "index-%-of-input")
	b.ReportMetric(float64(benchInput), "input-bytes")
}

// benchCold is the first read of view v through a fresh Home with a fresh
// render cache: the Stat that builds the index (as a lookup does), then a
// sequential read of a snapshot in 128 KiB reads.
func benchCold(b *testing.B, v View) {
	home := benchCorpus(b)
	buf := make([]byte, 128<<10)
	b.SetBytes(benchInput)
	b.ResetTimer()
	defer cpuMeter(b)()
	for b.Loop() {
		h, err := OpenHome(home)
		if err != nil {
			b.Fatal(err)
		}
		h.SetCacheDir(b.TempDir())
		sb, err := h.Sandbox("bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sb.Stat(v); err != nil {
			b.Fatal(err)
		}
		s, err := sb.OpenSnapshot(v)
		if err != nil {
			b.Fatal(err)
		}
		for off := int64(0); off < s.Size(); {
			n, err := s.ReadAt(buf, off)
			if err != nil && err != io.EOF {
				b.Fatal(err)
			}
			off += int64(n)
		}
		s.Close()
		h.Close()
	}
}

// BenchmarkColdStdout: stat then the first read of stdout, cold.
func BenchmarkColdStdout(b *testing.B) { benchCold(b, ViewStdout) }

// BenchmarkColdMerged: stat then the first read of merged, cold.
func BenchmarkColdMerged(b *testing.B) { benchCold(b, ViewMerged) }

// BenchmarkStatRemounted: Stat of merged on a fresh Home whose cache dir
// holds the index a first Home saved (a remount, logs unchanged).
func BenchmarkStatRemounted(b *testing.B) {
	home := benchCorpus(b)
	dir := b.TempDir()
	statFresh(b, home, dir, ViewMerged) // saves the index
	b.ResetTimer()
	for b.Loop() {
		statFresh(b, home, dir, ViewMerged)
	}
}

// BenchmarkStatCold: the first Stat of merged on a fresh Home with a fresh
// cache dir (what a first `stat merged` through a mount costs: the index
// pass, its key and its save).
func BenchmarkStatCold(b *testing.B) { benchStat(b, ViewMerged, true) }

// BenchmarkStatColdSerial: BenchmarkStatCold without parse-ahead.
func BenchmarkStatColdSerial(b *testing.B) { serial(BenchmarkStatCold)(b) }

// BenchmarkParseLines: the exec.log parser alone over the lines of the
// corpus's oldest file, in memory (no reads, no merge).
func BenchmarkParseLines(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(benchCorpus(b), "sandboxes", "bench", "logs", chain.ChainName(ChainLen-1)))
	if err != nil {
		b.Fatal(err)
	}
	var p logline.JSONParser
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	defer cpuMeter(b)()
	for b.Loop() {
		for rest := data; len(rest) > 0; {
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 {
				break
			}
			testutil.ParseExec(&p, rest[:nl])
			rest = rest[nl+1:]
		}
	}
}
