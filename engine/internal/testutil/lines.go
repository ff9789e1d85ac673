package testutil

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// BaseTime is the time of every test corpus's first entry.
var BaseTime = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// TsAt returns BaseTime+ms as exec.log writes it.
func TsAt(ms int64) string {
	return BaseTime.Add(time.Duration(ms) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// NsAt returns BaseTime+ms as a Time.
func NsAt(ms int64) logline.Time {
	return logline.TimeOf(BaseTime.Add(time.Duration(ms) * time.Millisecond))
}

// PlusNs returns t plus ns nanoseconds (not for leap seconds).
func PlusNs(t logline.Time, ns int64) logline.Time {
	sec, nsec := t.Sec+ns/1e9, int64(t.Nsec)+ns%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	if nsec >= 1e9 {
		sec, nsec = sec+1, nsec-1e9
	}
	return logline.Time{Sec: sec, Nsec: uint32(nsec)}
}

// JL returns an exec.log line (with its newline) of source s at
// BaseTime+ms, encoded by encoding/json.
func JL(ms int64, s, d string) string { return msbwriter.JSONLine{T: TsAt(ms), S: s, D: d}.String() }

// ExecLine is what a JSONParser made of one exec.log line, copied out of
// the Entry it filled.
type ExecLine struct {
	Time   logline.Time
	Source logline.Source
	HasID  bool
	ID     uint64
	Body   []byte
	B64    bool              // Body was decoded from base64 (else it is valid UTF-8)
	Stats  logline.BodyStats // of Body, when not B64
}

// ParseExec is p.ParseInto returning an ExecLine. Its Body aliases line or
// p's buffers, as the Entry's would.
func ParseExec(p *logline.JSONParser, line []byte) (ExecLine, bool) {
	var e logline.Entry
	ok := p.ParseInto(line, &e)
	stats, utf8 := e.Decoded()
	return ExecLine{Time: e.Time, Source: e.Source, HasID: e.HasID, ID: e.ID, Body: e.Body, B64: !utf8, Stats: stats}, ok
}

// rfc3339RE matches what RFC 3339 allows; time.Parse checks the field
// ranges but also accepts a comma before the fraction and offsets such as
// +24:00, which the grammar does not.
var rfc3339RE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:([0-9]{2})(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)

// ModelTime parses an RFC 3339 time with the time package: the model the
// engine's parser is checked against. A leap second :60 is second :59 plus
// 1e9 ns, as chrono has it; a time whose year in UTC is outside 0000–9999
// cannot be rendered and is refused.
func ModelTime(s string) (logline.Time, bool) {
	g := rfc3339RE.FindStringSubmatch(s)
	if g == nil {
		return logline.Time{}, false
	}
	leap := g[1] == "60"
	if leap {
		s = s[:17] + "59" + s[19:]
	}
	tm, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil || tm.UTC().Year() < 0 || tm.UTC().Year() > 9999 {
		return logline.Time{}, false
	}
	t := logline.Time{Sec: tm.Unix(), Nsec: uint32(tm.Nanosecond())}
	if leap {
		t.Nsec += 1e9
	}
	return t, true
}

// RFC3339Nano writes t in RFC 3339 with nine fractional digits, with the
// time package, a leap second as :60.
func RFC3339Nano(t logline.Time) string {
	s := time.Unix(t.Sec, int64(t.Nsec%1e9)).UTC().Format("2006-01-02T15:04:05.000000000Z")
	if t.Nsec >= 1e9 {
		s = s[:17] + "60" + s[19:]
	}
	return s
}

// EncodeCursor builds a cursor string by hand, independently of Cursor.
func EncodeCursor(pos ...logline.Pos) string {
	raw := []byte{byte(len(pos))}
	for _, p := range pos {
		raw = append(raw, le64(p.Gen)...)
		raw = append(raw, le64(p.Offset)...)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func le64(v uint64) []byte {
	var b [8]byte
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b[:]
}

// DuplicateKnownKey reports whether the JSON object line has one of the
// keys t, s, d, e and id (after unescaping) more than once at its top
// level, read with encoding/json's tokenizer. A line that is not an
// object reports false.
func DuplicateKnownKey(line []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		key, _ := tok.(string)
		switch key {
		case "t", "s", "d", "e", "id":
			if seen[key] {
				return true
			}
			seen[key] = true
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}
