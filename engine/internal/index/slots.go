package index

import (
	"fmt"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// trackedViews lists the views whose offsets an index of stream keeps.
func trackedViews(stream logline.SourceMask) []render.View {
	if stream == logline.MaskAll {
		return []render.View{render.ViewMerged, render.ViewMergedJSON, render.ViewStdout, render.ViewStderr, render.ViewOutput}
	}
	return []render.View{{Mask: stream, Format: logline.FormatText}, {Mask: stream, Format: logline.FormatJSON}}
}

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
