package engine

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// The walk benchmarks measure what one small sandbox costs among many,
// the way `grep -r` over a host touches them: each op touches the next
// sandbox of N in turn, so that by the time one is touched again the
// other N-1 were, and the idle release has taken its state. Their ns/op
// compared across N is the proof that nothing per request grows with the
// number of sandboxes.
//
//	go test -run='^$' -bench='SmallSandboxes' -benchmem ./engine/

var (
	manyMu    sync.Mutex
	manyHomes = map[int]manyHome{}
)

type manyHome struct {
	dir   string
	names []string
}

// smallSandboxes returns a home of n small sandboxes (msbwriter's
// GenerateMany), made once per n per run.
func smallSandboxes(b *testing.B, n int) manyHome {
	b.Helper()
	manyMu.Lock()
	defer manyMu.Unlock()
	if m, ok := manyHomes[n]; ok {
		return m
	}
	dir, err := os.MkdirTemp("", "msb-logfs-many-")
	if err != nil {
		b.Fatal(err)
	}
	names, err := msbwriter.GenerateMany(dir, msbwriter.ManyOptions{Count: n, Word: "needle"})
	if err != nil {
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	time.Sleep(RacyMargin) // a host's idle sandboxes were written before: their stamps vouch for them
	m := manyHome{dir: dir, names: names}
	manyHomes[n] = m
	manyDirs = append(manyDirs, dir)
	return m
}

// manyDirs are removed by TestMain's cleanup (see removeManyHomes).
var manyDirs []string

func removeManyHomes() {
	for _, d := range manyDirs {
		os.RemoveAll(d)
	}
}

// walkSizes are the numbers of sandboxes the walk benchmarks compare. At
// 2,000 a sandbox is touched again within IdleAfter of its last touch and
// is still known; at 10,000 and 20,000 it was forgotten and is looked up
// afresh: those two compare the same work.
var walkSizes = []int{2000, 10000, 20000}

// walkBench runs op on one small sandbox among N per op, for each N of
// walkSizes, after a first walk over all N.
func walkBench(b *testing.B, op func(b *testing.B, h *Home, name string)) {
	for _, n := range walkSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			m := smallSandboxes(b, n)
			h := openTestHome(b, m.dir)
			for _, name := range m.names {
				op(b, h, name)
			}
			b.ReportAllocs()
			defer cpuMeter(b)()
			b.ResetTimer()
			for i := range b.N {
				op(b, h, m.names[i%n])
			}
		})
	}
}

// BenchmarkStatSmallSandboxes is a stat of merged (what `ls -l`, `find
// -size` and every open's lookup do) of one small sandbox among N: each
// sandbox is unchanged since it was last looked at.
func BenchmarkStatSmallSandboxes(b *testing.B) {
	walkBench(b, func(b *testing.B, h *Home, name string) {
		lookupMerged(b, h, name, true)
	})
}

// lookupMerged makes the calls of a mount's lookup of name's merged: the
// sandbox's directory first (StatSandbox) if dir, then Sandbox and Stat.
func lookupMerged(b *testing.B, h *Home, name string, dir bool) (*Sandbox, ViewStat) {
	if dir {
		if _, err := h.StatSandbox(name); err != nil {
			b.Fatal(err)
		}
	}
	sb, err := h.Sandbox(name)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sb.Stat(ViewMerged)
	if err != nil {
		b.Fatal(err)
	}
	return sb, st
}

// BenchmarkCatSmallSandboxes is `cat merged` of one small sandbox among N
// (stat, open, read to the end, close).
func BenchmarkCatSmallSandboxes(b *testing.B) {
	buf := make([]byte, 128<<10)
	walkBench(b, func(b *testing.B, h *Home, name string) {
		sb, _ := lookupMerged(b, h, name, false)
		if n := readSnapshot(b, sb, ViewMerged, buf); n > int64(len(buf)) {
			b.Fatalf("%s: merged is %d bytes, not small", name, n)
		}
	})
}

// BenchmarkFirstStatSmallSandboxes is the first stat of merged of a small
// sandbox among N in a home that never saw it (a fresh mount's first walk):
// the pass that indexes it, with the persisted indexes of its cache
// directory.
func BenchmarkFirstStatSmallSandboxes(b *testing.B) {
	firstBench(b, func(b *testing.B, h *Home, name string) {
		lookupMerged(b, h, name, false)
	})
}

// BenchmarkFirstCatSmallSandboxes is `cat MNT/<sandbox>/merged` of a small
// sandbox among N in a home that never saw it, made of the calls a mount
// makes for it: the lookup of the sandbox's directory (StatSandbox), the
// lookup of merged (Sandbox, Stat), its open, its read and its release.
func BenchmarkFirstCatSmallSandboxes(b *testing.B) {
	buf := make([]byte, 128<<10)
	firstBench(b, func(b *testing.B, h *Home, name string) {
		_, st := lookupMerged(b, h, name, true)
		sb, err := h.Sandbox(name) // the open's own look-up
		if err != nil {
			b.Fatal(err)
		}
		if n := readSnapshot(b, sb, ViewMerged, buf); n != st.Size || n > int64(len(buf)) {
			b.Fatalf("%s: merged is %d bytes at the stat, %d at the open: want equal, and small", name, st.Size, n)
		}
	})
}

// firstBench runs op on one small sandbox among N (the first of
// walkSizes) per op, in a home opened afresh every N ops.
func firstBench(b *testing.B, op func(b *testing.B, h *Home, name string)) {
	freshHomeBench(b, smallSandboxes(b, walkSizes[0]), nil, op)
}

// freshHomeBench runs op on the next sandbox of m per op, in a home opened
// afresh every len(m.names) ops and then given to prepare (nil: none). The
// CPU per op it reports leaves out the opens and prepare's work.
func freshHomeBench(b *testing.B, m manyHome, prepare func(h *Home), op func(b *testing.B, h *Home, name string)) {
	n := len(m.names)
	var h *Home
	defer func() {
		if h != nil {
			h.Close()
		}
	}()
	var setup time.Duration
	start := cpuTime(b)
	defer func() {
		b.ReportMetric(float64(cpuTime(b)-start-setup)/float64(b.N)/1e6, "cpu-ms/op")
	}()
	b.ReportAllocs()
	for i := range b.N {
		if i%n == 0 {
			b.StopTimer()
			at := cpuTime(b)
			if h != nil {
				h.Close()
			}
			var err error
			if h, err = OpenHome(m.dir); err != nil {
				b.Fatal(err)
			}
			if prepare != nil {
				prepare(h)
			}
			setup += cpuTime(b) - at
			b.StartTimer()
		}
		op(b, h, m.names[i%n])
	}
	b.StopTimer()
}
