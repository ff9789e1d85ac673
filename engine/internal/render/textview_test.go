package render_test

import (
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// TestTextEscapingExamples pins the escaping of docs/formats.md on examples.
func TestTextEscapingExamples(t *testing.T) {
	var r render.Renderer
	for _, c := range []struct{ body, want string }{
		{"crlf\r\n", `crlf` + "\n"},
		{"cr\r", `cr` + "\n"},
		{"\r\n", "\n"},
		{"a\rb\n", `a\x0db` + "\n"},
		{"nul\x00 bel\x07 del\x7f tab\t\n", `nul\x00 bel\x07 del\x7f tab` + "\t\n"},
		{"bad \xff\xc3 utf8 é €\n", `bad \xff\xc3 utf8 é €` + "\n"},
		{"\x1b[31mred\x1b[0m\r\n", "red\n"},
		{"cr before an escape\r\x1b[0m\n", "cr before an escape\n"},
		{"split \xc3\x1b[0m\xa9\n", "split é\n"},
		{"a\n\r", "a\n" + testutil.TsAt(0) + " stdout \n"},
		{`back\slash`, `back\slash` + "\n"},
	} {
		e := logline.Entry{Time: testutil.NsAt(0), Source: logline.SourceStdout, Body: []byte(c.body)}
		want := testutil.TsAt(0) + " stdout " + c.want
		if got := string(r.AppendEntry(nil, logline.FormatText, &e, &logline.Cursor{})); got != want {
			t.Errorf("%q: %q, want %q", c.body, got, want)
		}
	}
}
