package cursorfs

import (
	"context"
	"syscall"
	"testing"

	"github.com/microsandbox/msb-logfs/engine"
)

// BenchmarkStatOpenRead measures a stat by name, an open, a 4 KiB read and
// a close of stdout through the handle model (node), against the reference
// (engine): the engine calls the FUSE adapter made itself before the handle
// model, a sandbox lookup for the stat and another for the open.
func BenchmarkStatOpenRead(b *testing.B) {
	box := newBox(b, "box", 2000, 0)
	buf := make([]byte, 4096)
	b.Run("engine", func(b *testing.B) {
		for b.Loop() {
			sb, err := box.home.Sandbox("box")
			must(b, err)
			_, err = sb.Stat(engine.ViewStdout)
			must(b, err)
			sb, err = box.home.Sandbox("box")
			must(b, err)
			s, err := sb.OpenSnapshot(engine.ViewStdout)
			must(b, err)
			_, err = s.ReadAt(buf, 0)
			must(b, err)
			must(b, s.Close())
		}
	})
	b.Run("node", func(b *testing.B) {
		for b.Loop() {
			n, err := nodeAt(box.fs, "box", "stdout")
			must(b, err)
			_, err = n.Stat()
			must(b, err)
			h, err := n.Open(syscall.O_RDONLY)
			must(b, err)
			_, err = h.Read(context.Background(), buf, 0, false)
			must(b, err)
			must(b, h.Close())
		}
	})
}
