package engine

import "fmt"

// trackedViews lists the views whose offsets an index of stream keeps.
func trackedViews(stream SourceMask) []View {
	if stream == MaskAll {
		return []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewStderr, ViewOutput}
	}
	return []View{{Mask: stream, Format: FormatText}, {Mask: stream, Format: FormatJSON}}
}

// maxTracked bounds len(trackedViews(…)).
const MaxTracked = 5

// trackedIndex returns v's slot in the index of its stream, or -1. A
// session view has the slot of the view it filters.
func TrackedIndex(v View) int {
	b := v.Base()
	for i, t := range trackedViews(b.Stream()) {
		if t == b {
			return i
		}
	}
	return -1
}

// checkView reports why v cannot be indexed, or nil.
func CheckView(v View) error {
	if TrackedIndex(v) < 0 {
		return fmt.Errorf("%v has no index", v)
	}
	if v.ByID && v.Stream() != MaskAll {
		return fmt.Errorf("%v: session views exist only for merged, merged.jsonl, stdout, stderr and output", v)
	}
	return nil
}
