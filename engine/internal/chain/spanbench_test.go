package chain

import (
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// BenchmarkSpanParse is what the parse-ahead's workers do to a corpus of
// 16 MiB (msbwriter's, as the engine's benchmarks): every span of the
// exec chain parsed into a batch with its entries sized, as an index pass
// asks, in one goroutine, so that its ns/op is the workers' CPU without
// the hand-over and with little of the machine's noise. keep: the bodies
// of stdout are kept (a pass that renders stdout); else none.
func BenchmarkSpanParse(b *testing.B)     { benchSpanParse(b, 0) }
func BenchmarkSpanParseKeep(b *testing.B) { benchSpanParse(b, 1<<logline.SourceStdout) }

func benchSpanParse(b *testing.B, keep logline.SourceMask) {
	home := b.TempDir()
	const total = 16 << 20
	if err := msbwriter.GenerateCorpus(home, "bench", msbwriter.CorpusOptions{TotalBytes: total, RotateAt: total/(ChainLen-1) + 1, Seed: 42}); err != nil {
		b.Fatal(err)
	}
	files, err := OpenFileSet(NewFileTable(home+"/sandboxes", "bench", nil))
	if err != nil {
		b.Fatal(err)
	}
	defer files.Release()
	a := &parseAhead{files: files, chain: files.Origin(logline.OriginExec), mask: logline.MaskAll, measure: render.MeasureSizes, keep: keep, long: aheadDefaults.BigLine}
	spans, size := cutSpans(a.chain, 0, 0, aheadDefaults.Span)
	var w originReader
	w.origin, w.mask = logline.OriginExec, a.mask
	w.json = a.parser()
	defer w.scan.releaseBuffer()
	defer w.json.ReleaseBuffers()
	batch := getBatch()
	defer putBatch(batch)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		for _, sp := range spans {
			a.parse(&w, batch, sp)
			if batch.err != nil {
				b.Fatal(batch.err)
			}
		}
	}
}
