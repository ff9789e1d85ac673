package engine

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

// The benchmarks share one realistic corpus, generated once per `go test
// -bench` run (MSB_BENCH_MB megabytes, default 64) into a temporary home
// that TestMain removes. Every benchmark sets b.SetBytes to the size of
// the sandbox's log files, so MB/s figures compare directly with
// BenchmarkCat, which reads the same files with os.File.Read.
//
//	go test -run='^$' -bench=. -benchmem ./engine/

func TestMain(m *testing.M) {
	code := m.Run()
	if benchHome != "" {
		os.RemoveAll(benchHome)
	}
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
		benchInput, benchErr = writeBenchCorpus(filepath.Join(benchHome, "sandboxes", "bench", "logs"), int64(mb)<<20)
		b.Logf("corpus: %d MiB in %v", benchInput>>20, time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchHome
}

// benchWriter writes a sandbox the way a busy one looks: mostly small
// stdout chunks, some stderr, PTY output and lifecycle markers, unicode,
// ANSI colours, about 0.1% malformed lines, a few 1 MiB chunks, and
// runtime/kernel lines; exec.log rotates so that the whole corpus stays in
// the five-file chain.
type benchWriter struct {
	rng      *rand.Rand
	logs     string
	exec     *os.File
	execW    *bufio.Writer
	execSize int64
	rotateAt int64
	rt, k    *bufio.Writer
	files    []*os.File
	line     []byte
	start    time.Time // kernel.log's birth, about: uptime stamps count from it
	clock    time.Time
}

func writeBenchCorpus(logs string, total int64) (int64, error) {
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return 0, err
	}
	w := &benchWriter{
		rng:      rand.New(rand.NewPCG(42, 42)),
		logs:     logs,
		rotateAt: total/(ChainLen-1) + 1, // the chain holds it all
		start:    time.Now(),
	}
	w.clock = w.start
	rt, err := os.Create(filepath.Join(logs, RuntimeLogName))
	if err != nil {
		return 0, err
	}
	k, err := os.Create(filepath.Join(logs, KernelLogName))
	if err != nil {
		return 0, err
	}
	w.files = append(w.files, rt, k)
	w.rt, w.k = bufio.NewWriterSize(rt, 1<<20), bufio.NewWriterSize(k, 1<<20)
	if err := w.openExec(); err != nil {
		return 0, err
	}
	var written, big int64
	for written < total {
		var n int
		var err error
		if written >= big { // a 1 MiB chunk at 4 MiB, then every 16 MiB
			n, err = w.bigChunk()
			big = max(4<<20, big+16<<20)
		} else {
			n, err = w.step()
		}
		if err != nil {
			return 0, err
		}
		written += int64(n)
	}
	for _, bw := range []*bufio.Writer{w.execW, w.rt, w.k} {
		if err := bw.Flush(); err != nil {
			return 0, err
		}
	}
	w.exec.Close()
	for _, f := range w.files {
		f.Close()
	}
	var size int64
	ents, err := os.ReadDir(logs)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			return 0, err
		}
		size += fi.Size()
	}
	return size, nil
}

func (w *benchWriter) openExec() error {
	f, err := os.OpenFile(filepath.Join(w.logs, ExecLogName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	w.exec, w.execW, w.execSize = f, bufio.NewWriterSize(f, 1<<20), 0
	return nil
}

var benchWords = []string{"GET", "/api/v1/items", "200", "OK", "latency=3ms", "user=alice", "request_id=9f86d081", "héllo", "wörld", "日本語のテキスト", "✓", "🦀", "error:", "warning:", "INFO", "DEBUG", "compiling", "serde_json", "v1.0.140"}

func (w *benchWriter) text(n int) []byte {
	var b []byte
	for len(b) < n {
		b = append(b, benchWords[w.rng.IntN(len(benchWords))]...)
		b = append(b, ' ')
	}
	return append(b, '\n')
}

// step writes one line and returns its size.
func (w *benchWriter) step() (int, error) {
	w.clock = w.clock.Add(time.Duration(w.rng.IntN(2000)) * time.Microsecond)
	ts := w.clock.Format("2006-01-02T15:04:05.000000Z")
	r := w.rng.IntN(10000)
	var line []byte
	switch {
	case r < 10: // 0.1% malformed
		line = append(w.line[:0], `{"t":"`+ts+`","s":"stdout","d":"truncated chunk`...)
		line = append(line, '\n')
	case r < 210:
		line = append(w.line[:0], ts...)
		line = append(line, " INFO msb_runtime: "...)
		line = append(line, w.text(40+w.rng.IntN(80))...)
		n, err := w.rt.Write(line)
		w.line = line
		return n, err
	case r < 310:
		up := w.clock.Sub(w.start)
		line = fmt.Appendf(w.line[:0], "[%5d.%06d] %s", up/time.Second, up%time.Second/time.Microsecond, w.text(30+w.rng.IntN(60)))
		n, err := w.k.Write(line)
		w.line = line
		return n, err
	case r < 1300:
		line = w.execLine(ts, "stderr", w.text(20+w.rng.IntN(100)), true)
	case r < 1900:
		body := append([]byte("\x1b[1;32m"), w.text(10+w.rng.IntN(60))...)
		body = append(body[:len(body)-1], "\x1b[0m\r\n"...)
		line = w.execLine(ts, "output", body, true)
	case r < 1950:
		line = w.execLine(ts, "system", []byte("exec session started"), false)
	default:
		line = w.execLine(ts, "stdout", w.text(10+w.rng.IntN(150)), true)
	}
	return w.writeExec(line)
}

// bigChunk writes a 1 MiB stdout chunk.
func (w *benchWriter) bigChunk() (int, error) {
	return w.writeExec(w.execLine(w.clock.Format("2006-01-02T15:04:05.000000Z"), "stdout", w.text(1<<20), true))
}

func (w *benchWriter) writeExec(line []byte) (int, error) {
	w.line = line
	if w.execSize+int64(len(line)) > w.rotateAt {
		if err := w.execW.Flush(); err != nil {
			return 0, err
		}
		w.exec.Close()
		if err := rotateChain(w.logs); err != nil {
			return 0, err
		}
		if err := w.openExec(); err != nil {
			return 0, err
		}
	}
	w.execSize += int64(len(line))
	return w.execW.Write(line)
}

// execLine encodes one exec.log line as microsandbox does.
func (w *benchWriter) execLine(ts, src string, body []byte, id bool) []byte {
	b := append(w.line[:0], `{"t":"`...)
	b = append(b, ts...)
	b = append(b, `","s":"`...)
	b = append(b, src...)
	b = append(b, `","d":"`...)
	for len(body) > 0 {
		r, size := utf8.DecodeRune(body)
		switch c := body[0]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04x`, c)
		default:
			b = utf8.AppendRune(b, r)
		}
		body = body[size:]
	}
	b = append(b, '"')
	if id {
		b = append(b, `,"id":`...)
		b = strconv.AppendInt(b, int64(1+w.rng.IntN(3)), 10)
	}
	return append(b, "}\n"...)
}

// benchSandbox opens the corpus with its index built, with or without
// the render cache (without it, every read parses and renders).
func benchSandbox(b *testing.B, cache bool) *Sandbox {
	b.Helper()
	home := benchCorpus(b)
	h, err := OpenHome(home)
	if err != nil {
		b.Fatal(err)
	}
	if !cache {
		h.SetCacheDir("")
	}
	b.Cleanup(func() { h.Close() })
	sb, err := h.Sandbox("bench")
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []View{ViewMerged, ViewSystem} {
		if _, err := sb.Stat(v); err != nil {
			b.Fatal(err)
		}
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
		names = append(names, chainName(i))
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

// BenchmarkReadMerged: the merged text view.
func BenchmarkReadMerged(b *testing.B) { benchView(b, ViewMerged, false) }

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

// BenchmarkIndexBuild: Stat of merged on a fresh Home builds the index
// over the whole corpus.
func BenchmarkIndexBuild(b *testing.B) {
	home := benchCorpus(b)
	b.SetBytes(benchInput)
	b.ResetTimer()
	for b.Loop() {
		h, err := OpenHome(home)
		if err != nil {
			b.Fatal(err)
		}
		h.SetCacheDir("")
		sb, err := h.Sandbox("bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sb.Stat(ViewMerged); err != nil {
			b.Fatal(err)
		}
		h.Close()
	}
}

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
		cps += len(x.cps)
	}
	sb.mu.Unlock()
	size := float64(cps) * float64(unsafe.Sizeof(checkpoint{}))
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
	stat := func() {
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
		if _, err := sb.Stat(ViewMerged); err != nil {
			b.Fatal(err)
		}
	}
	stat() // saves the index
	b.ResetTimer()
	for b.Loop() {
		stat()
	}
}
