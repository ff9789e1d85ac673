package ship_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// BenchmarkOnce ships a corpus sandbox (32 MiB; $MSB_SHIP_BENCH_HOME with
// a sandbox "big" instead) into an in-process sink that acknowledges
// without decoding, so that the figure is ship's own.
func BenchmarkOnce(b *testing.B) {
	home := os.Getenv("MSB_SHIP_BENCH_HOME")
	if home == "" {
		home = filepath.Join(b.TempDir(), "home")
		if err := msbwriter.GenerateCorpus(home, "big", msbwriter.CorpusOptions{TotalBytes: 32 << 20, RotateAt: 8 << 20, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	var size int64
	ents, _ := os.ReadDir(msbwriter.LogsDir(home, "big"))
	for _, e := range ents {
		fi, _ := e.Info()
		size += fi.Size()
	}
	b.SetBytes(size)
	for b.Loop() {
		r := newRig(b)
		r.home = home
		r.sink.raw = true
		r.runOnce(nil)
	}
}
