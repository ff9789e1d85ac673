package logline_test

import (
	"bytes"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// FuzzParseOnly: a parser that decodes only some sources' bodies accepts
// and rejects exactly the lines a full parser does (a line of another
// source with a bad d is still malformed), and yields the same entry for
// a line of a wanted source.
func FuzzParseOnly(f *testing.F) {
	T := `{"t":"2026-05-01T10:00:00.123Z","s":"`
	for _, l := range []string{
		T + `stdout","d":"hi\n","id":7}`,
		T + `stderr","d":"bad \x escape"}`,
		T + `stdout","d":"\ud83d\ude00 \ud83d\u12 \u00e9"}`,
		T + `output","d":"ctl ` + "\x01" + `"}`,
		T + `system","d":"boot"}`,
		T + `stdout","d":"trailing backslash \`,
		T + `stdout","d":"/w==","e":"b64"}`,
		T + `stdout","d":"unterminated`,
		`{"s":"stdout","t":"2026-05-01T10:00:00Z","d":"\q"}`,
	} {
		f.Add([]byte(l), uint8(1<<logline.SourceSystem))
	}
	f.Fuzz(func(t *testing.T, line []byte, only uint8) {
		mask := logline.SourceMask(only) & logline.MaskAll
		var full, some logline.JSONParser
		some.Only = mask
		want, wok := testutil.ParseExec(&full, bytes.Clone(line))
		got, gok := testutil.ParseExec(&some, bytes.Clone(line))
		if gok != wok {
			t.Fatalf("%q: only %b accepts %v, full parser %v", line, mask, gok, wok)
		}
		if !gok || (mask != 0 && !mask.Has(got.Source)) {
			return
		}
		if got.Time != want.Time || got.Source != want.Source || got.HasID != want.HasID || got.ID != want.ID ||
			got.B64 != want.B64 || got.Stats != want.Stats || !bytes.Equal(got.Body, want.Body) {
			t.Fatalf("%q: only %b gives %+v, full parser %+v", line, mask, got, want)
		}
	})
}
