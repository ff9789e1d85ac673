package engine

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// walkViews are the files grep -r reads in a small sandbox of one session.
var walkViews = []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewStderr, ViewOutput, ViewSystem,
	ViewMerged.Session(1), ViewMergedJSON.Session(1), ViewStdout.Session(1), ViewStderr.Session(1), ViewOutput.Session(1)}

// BenchmarkAllViewsSmallSandbox is what `grep -r` costs the engine for one
// small sandbox it never saw (210 exec chunks of one session, runtime and
// kernel lines: about 24 KiB, as in the mount's walk corpus): the stat of
// merged that indexes it, then every view and session view opened, read
// whole in 128 KiB reads and closed. record=off renders every view by
// parsing the files, as without index.Record: the reference of the same
// run. second=true is the second walk: every sandbox was read once, and
// its state let go (parked) since, so its index comes back without a
// pass.
//
//	go test -run='^$' -bench='AllViewsSmallSandbox' -benchmem ./engine/
func BenchmarkAllViewsSmallSandbox(b *testing.B) {
	m := walkCorpus(b, 1000)
	for _, mode := range []struct {
		name       string
		on, second bool
	}{{"record=off", false, false}, {"record=on", true, false}, {"record=off,second=true", false, true}, {"record=on,second=true", true, true}} {
		b.Run(mode.name, func(b *testing.B) {
			defer index.SetRecording(mode.on)()
			buf := make([]byte, 128<<10)
			b.ReportAllocs()
			var h *Home
			var setup time.Duration // the CPU of what the timer does not count
			start := cpuTime(b)
			defer func() {
				b.ReportMetric(float64(cpuTime(b)-start-setup)/float64(b.N)/1e6, "cpu-ms/op")
			}()
			defer func() {
				if h != nil {
					h.Close()
				}
			}()
			for i := range b.N {
				if i%len(m.names) == 0 { // a home that never saw the sandbox
					b.StopTimer()
					at := cpuTime(b)
					if h != nil {
						h.Close()
					}
					var err error
					if h, err = OpenHome(m.dir); err != nil {
						b.Fatal(err)
					}
					for _, name := range m.names[:len(m.names)*btoi(mode.second)] {
						readWalkViews(b, h, name, buf)
					}
					setup += cpuTime(b) - at
					b.StartTimer()
				}
				readWalkViews(b, h, m.names[i%len(m.names)], buf)
			}
		})
	}
}

// readWalkViews stats merged of name, then reads every view of walkViews.
func readWalkViews(b *testing.B, h *Home, name string, buf []byte) {
	sb, err := h.Sandbox(name)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sb.Stat(ViewMerged); err != nil {
		b.Fatal(err)
	}
	for _, v := range walkViews {
		s, err := sb.OpenSnapshot(v)
		if err != nil {
			b.Fatal(err)
		}
		for off := int64(0); off < s.Size(); {
			n, err := s.ReadAt(buf, off)
			if err != nil && err != io.EOF || n == 0 {
				b.Fatalf("%s %v: ReadAt(%d): %d, %v", name, v, off, n, err)
			}
			off += int64(n)
		}
		s.Close()
	}
}

// walkCorpus returns a home of n sandboxes sb000… shaped like the mount
// walk's corpus (msbwriter.GenerateMany with 210 lines), made once per run.
func walkCorpus(b *testing.B, n int) manyHome {
	b.Helper()
	manyMu.Lock()
	defer manyMu.Unlock()
	key := -n // apart from smallSandboxes' homes of n
	if m, ok := manyHomes[key]; ok {
		return m
	}
	dir, err := os.MkdirTemp("", "msb-logfs-walk-")
	if err != nil {
		b.Fatal(err)
	}
	manyDirs = append(manyDirs, dir)
	names, err := msbwriter.GenerateMany(dir, msbwriter.ManyOptions{Count: n, Lines: 210, Word: "ERROR", Prefix: "sb"})
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(RacyMargin)
	m := manyHome{dir: dir, names: names}
	manyHomes[key] = m
	return m
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
