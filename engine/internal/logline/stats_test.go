package logline_test

import (
	"encoding/json"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// TestParserStatsEqualMeasure: the stats the JSON parser gathers while it
// decodes a body are those measure finds in the decoded body.
func TestParserStatsEqualMeasure(t *testing.T) {
	bodies := []string{"", "plain", "a\nb\n", "tab\there", `quote " back \ slash`, "\x1b[31mred\x1b[0m\r\n",
		"é日本🦀", "ctl \x01\x02\x7f", "\u2028", "mix é\n\x1b]0;t\x07\"\\"}
	var p logline.JSONParser
	for _, b := range bodies {
		for _, line := range []string{testutil.JL(0, "stdout", b), `{"d":` + jsonQuote(b) + `,"s":"stdout","t":"` + testutil.TsAt(0) + `"}`} {
			x, ok := testutil.ParseExec(&p, []byte(line))
			if !ok {
				t.Fatalf("%q did not parse", line)
			}
			if want := logline.Measure(x.Body); x.Stats != want {
				t.Errorf("%q: parser stats %+v, measure %+v", b, x.Stats, want)
			}
		}
	}
	// \u escapes, invalid UTF-8 and surrogates.
	for _, d := range []string{`\u0041\u00e9\u001b\u0000`, `\ud83e\udd80 \ud800 x`, "\xff\xfe ok", `\/\b\f`} {
		x, ok := testutil.ParseExec(&p, []byte(`{"t":"`+testutil.TsAt(0)+`","s":"stdout","d":"`+d+`"}`))
		if !ok {
			t.Fatalf("%q did not parse", d)
		}
		if want := logline.Measure(x.Body); x.Stats != want {
			t.Errorf("%q: parser stats %+v, measure %+v", d, x.Stats, want)
		}
	}
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
