package engine

import (
	"bytes"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
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
		f.Add([]byte(l), uint8(1<<SourceSystem))
	}
	f.Fuzz(func(t *testing.T, line []byte, only uint8) {
		mask := SourceMask(only) & MaskAll
		var full, some logline.JSONParser
		some.Only = mask
		want, wok := parseExec(&full, bytes.Clone(line))
		got, gok := parseExec(&some, bytes.Clone(line))
		if gok != wok {
			t.Fatalf("%q: only %b accepts %v, full parser %v", line, mask, gok, wok)
		}
		if !gok || (mask != 0 && !mask.Has(got.source)) {
			return
		}
		if got.time != want.time || got.source != want.source || got.hasID != want.hasID || got.id != want.id ||
			got.b64 != want.b64 || got.stats != want.stats || !bytes.Equal(got.body, want.body) {
			t.Fatalf("%q: only %b gives %+v, full parser %+v", line, mask, got, want)
		}
	})
}
