package engine

import (
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// The session benchmarks read sandbox "sessions" of the benchmark home:
// MSB_BENCH_MB megabytes (like the others) of msbwriter's corpus with 1,000
// sessions, 8 live at once.
//
//	MSB_BENCH_MB=200 go test -run='^$' -bench='Session' -benchtime=3x ./engine/

var (
	sessionsOnce  sync.Once
	sessionsInput int64 // bytes of the sandbox's log files
	sessionsErr   error
)

const benchSessions = 1000

// sessionsSandbox opens sandbox "sessions" with its index built, with or
// without the render cache.
func sessionsSandbox(b *testing.B, cache bool) *Sandbox {
	b.Helper()
	home := benchCorpus(b)
	sessionsOnce.Do(func() {
		total := benchInput // the size of the bench corpus
		sessionsErr = msbwriter.GenerateCorpus(home, "sessions", msbwriter.CorpusOptions{TotalBytes: total,
			RotateAt: total/(ChainLen-1) + 1, Seed: 42, Sessions: benchSessions, Interleave: 8})
		if sessionsErr == nil {
			sessionsInput, sessionsErr = dirSize(filepath.Join(home, "sandboxes", "sessions", "logs"))
		}
	})
	if sessionsErr != nil {
		b.Fatal(sessionsErr)
	}
	sb := openBenchSandbox(b, home, "sessions", cache)
	if _, err := sb.Stat(ViewMerged); err != nil {
		b.Fatal(err)
	}
	return sb
}

// BenchmarkSessions: the session list of a sandbox whose index is built
// (what `ls sessions/` costs once warm).
func BenchmarkSessions(b *testing.B) {
	sb := sessionsSandbox(b, true)
	var n int
	for b.Loop() {
		list, err := sb.Sessions()
		if err != nil {
			b.Fatal(err)
		}
		n = len(list)
	}
	if n != benchSessions {
		b.Fatalf("%d sessions, want %d", n, benchSessions)
	}
	x := sb.indexes[MaskAll]
	ids := len(x.Tail)
	for _, cp := range x.Cps {
		ids += len(cp.IDs)
	}
	b.ReportMetric(float64(ids)/float64(len(x.Cps)), "ids/interval")
}

// readSnapshot reads a snapshot of v whole in 128 KiB reads and returns
// its size.
func readSnapshot(b *testing.B, sb *Sandbox, v View, buf []byte) int64 {
	s, err := sb.OpenSnapshot(v)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for off := int64(0); off < s.Size(); {
		n, err := s.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			b.Fatal(err)
		}
		off += int64(n)
	}
	return s.Size()
}

// benchSessionRead reads view v of the sessions sandbox, uncached (every
// read parses and renders, as BenchmarkReadStdout).
func benchSessionRead(b *testing.B, v View) {
	sb := sessionsSandbox(b, false)
	buf := make([]byte, 128<<10)
	var out int64
	b.SetBytes(sessionsInput)
	b.ResetTimer()
	for b.Loop() {
		out = readSnapshot(b, sb, v, buf)
	}
	b.ReportMetric(float64(out), "bytes-out")
}

// BenchmarkSessionSmallRead: stdout of one session of the 1,000 (about a
// thousandth of the sandbox).
func BenchmarkSessionSmallRead(b *testing.B) {
	benchSessionRead(b, ViewStdout.Session(benchSessions/2))
}

// BenchmarkSessionReadStdout: stdout of the whole sandbox, the reference
// of BenchmarkSessionSmallRead.
func BenchmarkSessionReadStdout(b *testing.B) { benchSessionRead(b, ViewStdout) }

// BenchmarkSessionStat: a stat of one view of one session (what `ls -l
// sessions/*/` costs per file once warm).
func BenchmarkSessionStat(b *testing.B) {
	sb := sessionsSandbox(b, true)
	id := uint64(0)
	for b.Loop() {
		id = id%benchSessions + 1
		if _, err := sb.Stat(ViewMergedJSON.Session(id)); err != nil {
			b.Fatal(err)
		}
	}
}
