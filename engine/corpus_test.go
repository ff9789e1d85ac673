package engine

import (
	"os"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// corpusGen is msbwriter's Adversary writing into a test sandbox: random
// but hostile logs for property tests (see msbwriter.Adversary).
type corpusGen struct {
	d *tdir
	*msbwriter.Adversary
}

func newCorpusGen(d *tdir, seed uint64) *corpusGen {
	return &corpusGen{d: d, Adversary: msbwriter.NewAdversary(d.logs, seed)}
}

// write appends about n bytes of entries, then flushes. With tails, it
// leaves a partial last line in exec.log and runtime.log.
func (g *corpusGen) write(n int, tails bool) {
	g.d.t.Helper()
	if err := g.Write(n, tails); err != nil {
		g.d.t.Fatal(err)
	}
}

// flush appends what was generated.
func (g *corpusGen) flush() {
	g.d.t.Helper()
	if err := g.Flush(); err != nil {
		g.d.t.Fatal(err)
	}
}

// stepBack moves the clock back, so that what is written next sorts before
// entries already written.
func (g *corpusGen) stepBack(d time.Duration) { g.StepBack(d) }

// TestCorpusGen checks that the generator writes what the property tests
// rely on: several exec files, all three origins, malformed lines.
func TestCorpusGen(t *testing.T) {
	d := newSandboxDir(t)
	g := newCorpusGen(d, 1)
	g.write(200<<10, true)
	m := buildModel(t, d.logs)
	for o := range logline.NumOrigins {
		if len(m.origins[o]) < 20 {
			t.Errorf("origin %v: %d entries", o, len(m.origins[o]))
		}
	}
	if m.counts.Malformed == 0 || m.counts.Empty == 0 {
		t.Errorf("counts %+v: want malformed and empty lines", m.counts)
	}
	files := 0
	for i := range ChainLen {
		if _, err := os.Stat(d.path(chain.ChainName(i))); err == nil {
			files++
		}
	}
	if files < 3 {
		t.Errorf("%d exec files, want several", files)
	}
}
