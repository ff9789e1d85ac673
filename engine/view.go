package engine

import "fmt"

// View is a rendering of a sandbox: which entries, in which format. A
// session view (ByID) holds only the entries of one session id (see
// Session). Views are comparable.
type View struct {
	Mask   SourceMask
	Format Format
	ByID   bool   // only the entries whose session id is ID
	ID     uint64 // the session id, when ByID
}

// The views the filesystem shows (SPEC §3).
var (
	ViewMerged     = View{Mask: MaskAll, Format: FormatText}
	ViewMergedJSON = View{Mask: MaskAll, Format: FormatJSON}
	ViewStdout     = View{Mask: 1 << SourceStdout, Format: FormatRaw}
	ViewStderr     = View{Mask: 1 << SourceStderr, Format: FormatRaw}
	ViewOutput     = View{Mask: 1 << SourceOutput, Format: FormatRaw}
	ViewSystem     = View{Mask: 1 << SourceSystem, Format: FormatText}
)

// Session returns the view of v restricted to the entries of session id.
// Session views exist for the views of the full merge (merged,
// merged.jsonl, stdout, stderr, output); the engine refuses any other (a
// text log's entries have no id).
func (v View) Session(id uint64) View {
	v.ByID, v.ID = true, id
	return v
}

// includes reports whether entry e belongs to the view.
func (v View) includes(e *Entry) bool {
	return v.Mask.Has(e.Source) && (!v.ByID || (e.HasID && e.ID == v.ID))
}

// base returns v without its session filter.
func (v View) base() View { return View{Mask: v.Mask, Format: v.Format} }

// String names the view for errors.
func (v View) String() string {
	s := fmt.Sprintf("view{mask %#x, format %d}", uint8(v.Mask), v.Format)
	if v.ByID {
		s += fmt.Sprintf(" of session %d", v.ID)
	}
	return s
}

// check reports why v cannot be indexed, or nil.
func (v View) check() error {
	if trackedIndex(v) < 0 {
		return fmt.Errorf("%v has no index", v)
	}
	if v.ByID && v.stream() != MaskAll {
		return fmt.Errorf("%v: session views exist only for merged, merged.jsonl, stdout, stderr and output", v)
	}
	return nil
}

// stream returns the merge a view is a subsequence of. Views that read only
// exec.log keep exec order, which the full merge keeps too, so they share its
// index. A view that reads the text logs but filters exec entries merges its
// own origins (filtering first, then merging). A session view of the full
// merge is a subsequence of it too.
func (v View) stream() SourceMask {
	if !v.Mask.TextOrigins() || v.Mask == MaskAll {
		return MaskAll
	}
	return v.Mask
}

// trackedViews lists the views whose offsets an index of stream keeps.
func trackedViews(stream SourceMask) []View {
	if stream == MaskAll {
		return []View{ViewMerged, ViewMergedJSON, ViewStdout, ViewStderr, ViewOutput}
	}
	return []View{{Mask: stream, Format: FormatText}, {Mask: stream, Format: FormatJSON}}
}

// maxTracked bounds len(trackedViews(…)).
const maxTracked = 5

// trackedIndex returns v's slot in the index of its stream, or -1. A
// session view has the slot of the view it filters.
func trackedIndex(v View) int {
	b := v.base()
	for i, t := range trackedViews(b.stream()) {
		if t == b {
			return i
		}
	}
	return -1
}
