package render

import (
	"fmt"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// View is a rendering of a sandbox: which entries, in which format. A
// session view (ByID) holds only the entries of one session id (see
// Session). Views are comparable.
type View struct {
	Mask   logline.SourceMask
	Format logline.Format
	ByID   bool   // only the entries whose session id is ID
	ID     uint64 // the session id, when ByID
}

// The views the filesystem shows (docs/filesystem.md, "What the mount shows").
var (
	ViewMerged     = View{Mask: logline.MaskAll, Format: logline.FormatText}
	ViewMergedJSON = View{Mask: logline.MaskAll, Format: logline.FormatJSON}
	ViewStdout     = View{Mask: 1 << logline.SourceStdout, Format: logline.FormatRaw}
	ViewStderr     = View{Mask: 1 << logline.SourceStderr, Format: logline.FormatRaw}
	ViewOutput     = View{Mask: 1 << logline.SourceOutput, Format: logline.FormatRaw}
	ViewSystem     = View{Mask: 1 << logline.SourceSystem, Format: logline.FormatText}
)

// Session returns the view of v restricted to the entries of session id.
// Session views exist for the views of the full merge (merged,
// merged.jsonl, stdout, stderr, output); the engine refuses any other (a
// text log's entries have no id).
func (v View) Session(id uint64) View {
	v.ByID, v.ID = true, id
	return v
}

// Includes reports whether entry e belongs to the view.
func (v View) Includes(e *logline.Entry) bool {
	return v.Mask.Has(e.Source) && (!v.ByID || (e.HasID && e.ID == v.ID))
}

// Base returns v without its session filter.
func (v View) Base() View { return View{Mask: v.Mask, Format: v.Format} }

// String names the view for errors.
func (v View) String() string {
	s := fmt.Sprintf("view{mask %#x, format %d}", uint8(v.Mask), v.Format)
	if v.ByID {
		s += fmt.Sprintf(" of session %d", v.ID)
	}
	return s
}

// Stream returns the merge a view is a subsequence of. Views that read only
// exec.log keep exec order, which the full merge keeps too, so they share its
// index. A view that reads the text logs but filters exec entries merges its
// own origins (filtering first, then merging). A session view of the full
// merge is a subsequence of it too.
func (v View) Stream() logline.SourceMask {
	if !v.Mask.TextOrigins() || v.Mask == logline.MaskAll {
		return logline.MaskAll
	}
	return v.Mask
}
