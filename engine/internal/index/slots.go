package index

import (
	"fmt"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// trackedViews lists the views whose offsets an index of stream keeps.
// The list is shared: the caller must not change it.
func trackedViews(stream logline.SourceMask) []render.View {
	if stream == logline.MaskAll {
		return fullMergeViews
	}
	return streamViews[stream][:]
}

// fullMergeViews and streamViews are the lists trackedViews returns, made
// once: every index and every parked summary shares them.
var (
	fullMergeViews = []render.View{render.ViewMerged, render.ViewMergedJSON, render.ViewStdout, render.ViewStderr, render.ViewOutput}
	streamViews    = func() (t [256][2]render.View) {
		for m := range t {
			t[m] = [2]render.View{{Mask: logline.SourceMask(m), Format: logline.FormatText}, {Mask: logline.SourceMask(m), Format: logline.FormatJSON}}
		}
		return t
	}()
)

// MaxTracked bounds len(trackedViews(…)).
const MaxTracked = 5

// TrackedIndex returns v's slot in the index of its stream, or -1. A
// session view has the slot of the view it filters.
func TrackedIndex(v render.View) int {
	b := v.Base()
	for i, t := range trackedViews(b.Stream()) {
		if t == b {
			return i
		}
	}
	return -1
}

// CheckView reports why v cannot be indexed, or nil.
func CheckView(v render.View) error {
	if TrackedIndex(v) < 0 {
		return fmt.Errorf("%v has no index", v)
	}
	if v.ByID && v.Stream() != logline.MaskAll {
		return fmt.Errorf("%v: session views exist only for merged, merged.jsonl, stdout, stderr and output", v)
	}
	return nil
}
