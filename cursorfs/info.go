package cursorfs

import (
	"fmt"
	"strconv"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// infoKind is a session's info file: SessionJSON of the session, fixed at
// open. Its time is the session's last entry's.
type infoKind struct{ readOnlyKind }

// stat answers from the session's summary: the cursor of its last entry,
// which only an open computes (it merges the session's last interval
// again), is as long as any other cursor.
func (infoKind) stat(n *Node) (int64, time.Time, error) {
	si, inChain, err := n.fs.sessionFrom(n.sandbox, *n.session, n.toOpen, sandboxSide.SessionSummary)
	if err != nil {
		return 0, time.Time{}, err
	}
	if inChain && si.Cursor == (engine.Cursor{}) {
		si.Cursor = anyCursor // the open's: a session in the chain has one
	}
	return int64(len(AppendSessionJSON(nil, si))), goTime(si.Last), nil
}

// anyCursor is a cursor that is not the zero one: every such cursor's text
// has the same length.
var anyCursor = engine.Cursor{{Gen: 1, Offset: 1}}

func (infoKind) open(n *Node) (Handle, error) {
	data, mt, err := n.info()
	if err != nil {
		return nil, err
	}
	return newBytes(data, mt), nil
}

// info returns the content and time of the info file of n's session, as
// an open sees the sandbox (engine.Sandbox.ToOpen).
func (n *Node) info() ([]byte, time.Time, error) {
	si, err := n.fs.sessionWith(n.sandbox, *n.session, true, sandboxSide.Session)
	if err != nil {
		return nil, time.Time{}, err
	}
	return AppendSessionJSON(nil, si), goTime(si.Last), nil
}

// AppendSessionJSON appends the JSON object that describes a session, and
// a newline: its id, the times of its first and last entries (RFC 3339,
// UTC, nanoseconds), the sources it wrote to (stdout, stderr, output, in
// that order), its count of entries and of body bytes, and the cursor of
// its last entry ("" when it is not known: a session that left the exec
// chain before its cursor was asked for). The info files and `msb-logfs
// sessions --json` write it.
//
//	{"id":7,"first":"…","last":"…","sources":["stdout"],"entries":2,"bytes":9,"cursor":"…"}
func AppendSessionJSON(b []byte, si engine.SessionInfo) []byte {
	b = fmt.Appendf(b, `{"id":%d,"first":"%s","last":"%s","sources":[`, si.ID, formatTimeNano(si.First), formatTimeNano(si.Last))
	for i, name := range SessionSources(si.Sources) {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, name)
	}
	b = fmt.Appendf(b, `],"entries":%d,"bytes":%d,"cursor":"`, si.Entries, si.Bytes)
	if si.Cursor != (engine.Cursor{}) {
		b = si.Cursor.AppendText(b)
	}
	return append(b, "\"}\n"...)
}

// SessionSources returns the names of the sources of mask, in the order
// stdout, stderr, output, system.
func SessionSources(mask engine.SourceMask) []string {
	var names []string
	for s := engine.SourceStdout; s <= engine.SourceSystem; s++ {
		if mask.Has(s) {
			names = append(names, s.String())
		}
	}
	return names
}

// formatTimeNano formats t as the renderings do (UTC, a four-digit year,
// a leap second as :60), with nine digits of fraction instead of three:
// 2026-05-01T10:00:00.123456789Z.
func formatTimeNano(t engine.Time) string {
	ms := engine.FormatTime(t) // …ss.mmmZ
	return fmt.Sprintf("%s%09dZ", ms[:len(ms)-len("mmmZ")], t.Nsec%1e9)
}

// goTime returns t as a time.Time (a leap second counts as the next one).
func goTime(t engine.Time) time.Time { return time.Unix(t.Sec, int64(t.Nsec)).UTC() }
