package engine

// View is a rendering of a sandbox: which entries, in which format.
type View struct {
	Mask   SourceMask
	Format Format
}

// The views the filesystem shows (SPEC §3).
var (
	ViewMerged     = View{MaskAll, FormatText}
	ViewMergedJSON = View{MaskAll, FormatJSON}
	ViewStdout     = View{1 << SourceStdout, FormatRaw}
	ViewStderr     = View{1 << SourceStderr, FormatRaw}
	ViewOutput     = View{1 << SourceOutput, FormatRaw}
	ViewSystem     = View{1 << SourceSystem, FormatText}
)

// stream returns the merge a view is a subsequence of. Views that read only
// exec.log keep exec order, which the full merge keeps too, so they share its
// index. A view that reads the text logs but filters exec entries merges its
// own origins (filtering first, then merging).
func (v View) stream() SourceMask {
	if !v.Mask.textOrigins() || v.Mask == MaskAll {
		return MaskAll
	}
	return v.Mask
}

// trackedViews lists the views whose offsets an index of stream keeps.
func trackedViews(stream SourceMask) []View {
	if stream == MaskAll {
		return []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewStderr, ViewOutput}
	}
	return []View{{stream, FormatText}, {stream, FormatJSON}}
}

// maxTracked bounds len(trackedViews(…)).
const maxTracked = 5

// trackedIndex returns v's slot in the index of its stream, or -1.
func trackedIndex(v View) int {
	for i, t := range trackedViews(v.stream()) {
		if t == v {
			return i
		}
	}
	return -1
}
