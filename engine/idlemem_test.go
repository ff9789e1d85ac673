package engine

import (
	"runtime"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// BenchmarkIdleSandboxMemory measures what a sandbox costs once read and
// let go: N small sandboxes are stat-ed and read through every view, the
// sweep lets them go, and the heap still in use is reported per sandbox
// (idle-B/sandbox: the parked summaries), next to the peak while they were
// held (held-B/sandbox) and the park store's own count (parked-B/sandbox).
//
//	go test -run '^$' -bench BenchmarkIdleSandboxMemory -benchtime 1x ./engine/
func BenchmarkIdleSandboxMemory(b *testing.B) {
	const n = 2000
	home := b.TempDir()
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: n, Word: "needle"})
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(RacyMargin) // written before the walk, as a host's idle sandboxes are: they are parked
	for b.Loop() {
		clock := newFakeClock()
		h := openClockedHome(b, home, clock, defaultMaxLive)
		h.SetCacheDir(b.TempDir())
		base := heapInUse()
		var held uint64
		for i, name := range names {
			readEveryView(b, h, name)
			if i == defaultMaxLive-1 {
				held = heapInUse() - base
			}
		}
		clock.advance(defaultIdleAfter)
		h.sweep()
		idle := int64(heapInUse()) - int64(base)
		b.ReportMetric(float64(held)/defaultMaxLive, "held-B/sandbox")
		b.ReportMetric(float64(max(idle, 0))/n, "idle-B/sandbox")
		count, parked := h.parks.stats()
		if count != n {
			b.Fatalf("%d of %d sandboxes parked", count, n)
		}
		b.ReportMetric(float64(parked)/n, "parked-B/sandbox")
		h.Close()
	}
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
