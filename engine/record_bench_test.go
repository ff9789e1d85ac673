package engine

import (
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
			var prepare func(h *Home) // the second walk: every sandbox read and let go
			if mode.second {
				prepare = func(h *Home) {
					for _, name := range m.names {
						readWalkViews(b, h, name, buf)
					}
				}
			}
			freshHomeBench(b, m, prepare, func(b *testing.B, h *Home, name string) { readWalkViews(b, h, name, buf) })
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
		readSnapshot(b, sb, v, buf)
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
