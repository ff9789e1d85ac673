package msbwriter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"
)

// Adversary writes random but hostile sandbox logs for property tests, a
// little at a time: exec chunks of every source (unicode, ANSI, JSON
// escapes the encoder would not write, invalid UTF-8, base64, big bodies),
// lifecycle markers, malformed and empty lines, text logs with RFC 3339,
// uptime and missing stamps, exec.log rotation, partial last lines, and
// timestamps that mostly grow but sometimes step back, so that origins
// interleave and are not sorted. GenerateCorpus writes the realistic
// corpus; this one writes what a parser and a merge must survive.
type Adversary struct {
	RotateAt int64 // exec.log bytes before a rotation; 24 KiB by default

	rng     *rand.Rand
	logs    string
	clock   int64 // ns
	uptime  int64 // ns since kernel.log's birth
	execLen int64 // bytes in exec.log since the last rotation
	execBuf strings.Builder
	rtBuf   strings.Builder
	kBuf    strings.Builder
	// partial lines left unterminated at the end of exec.log and
	// runtime.log, completed by the next Write.
	execTail, rtTail string
}

// NewAdversary returns a generator that appends to the logs directory logs;
// the same seed gives the same lines (but for the clock it starts from).
func NewAdversary(logs string, seed uint64) *Adversary {
	return &Adversary{
		RotateAt: 24 << 10,
		rng:      rand.New(rand.NewPCG(seed, 0x5eed)),
		logs:     logs,
		clock:    time.Now().Add(-2 * time.Second).UnixNano(),
	}
}

// stamp formats the clock in one of the forms exec.log may hold.
func (g *Adversary) stamp() string {
	t := time.Unix(0, g.clock).UTC()
	switch g.rng.IntN(6) {
	case 0:
		return t.Format(time.RFC3339Nano)
	case 1:
		return t.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000000-07:00")
	case 2:
		return t.Format("2006-01-02T15:04:05Z")
	default:
		return t.Format("2006-01-02T15:04:05.000Z")
	}
}

func (g *Adversary) tick() {
	switch n := g.rng.IntN(100); {
	case n < 3: // a step back
		g.clock -= g.rng.Int64N(int64(3 * time.Second))
	case n < 30: // same millisecond
	default:
		g.clock += g.rng.Int64N(int64(20 * time.Millisecond))
	}
	g.uptime += g.rng.Int64N(int64(15 * time.Millisecond))
}

var hostileWords = []string{"hello", "world", "héllo", "wörld", "✓", "日本語", "error:", "warn", "λ", "🦀", "\t", "x"}

func (g *Adversary) text(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(hostileWords[g.rng.IntN(len(hostileWords))])
		if g.rng.IntN(12) == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// body returns a chunk of program output.
func (g *Adversary) body() string {
	switch g.rng.IntN(20) {
	case 0:
		return ""
	case 1:
		return "partial line without newline"
	case 2:
		return "multi\nline\nchunk\n"
	case 3:
		return "\x1b[1;31merror\x1b[0m: red \x1b]0;title\x07text\n"
	case 4:
		return "tab\tcr\r\x01ctl\x7f \"quoted\" \\back\\ </script>\n"
	case 5:
		return "\n"
	case 6:
		return g.text(2048 + g.rng.IntN(6000)) // a big chunk
	default:
		return g.text(g.rng.IntN(120)) + "\n"
	}
}

func (g *Adversary) execLine() string {
	src := []string{"stdout", "stdout", "stdout", "stderr", "output", "system"}[g.rng.IntN(6)]
	t := g.stamp()
	var id *uint64
	if src != "system" && g.rng.IntN(3) > 0 {
		v := uint64(g.rng.IntN(4))
		if g.rng.IntN(20) == 0 {
			v = 1<<64 - 1
		}
		id = &v
	}
	switch g.rng.IntN(40) {
	case 0: // raw invalid UTF-8 in the JSON string: U+FFFD
		return fmt.Sprintf(`{"t":%q,"s":%q,"d":"bad \xff\xfe bytes\xc3"}`+"\n", t, src)
	case 1: // escapes the encoder would not write
		return fmt.Sprintf(`{ "t" : %q , "s":%q,"d":"caf\u00e9 \ud83d\ude00 \/ \b\f\u0001 \ud800 x","extra":[1,{"a":null}],"id":null}`+"\n", t, src)
	case 2: // base64 of bytes that are not UTF-8
		return JSONLine{T: t, S: src, D: "gP8A/w==", E: "b64", ID: id}.String()
	case 3: // base64 of text
		return JSONLine{T: t, S: src, D: "aGVsbG8gYjY0Cg==", E: "b64", ID: id}.String()
	case 4: // not base64: kept as is
		return JSONLine{T: t, S: src, D: "not base64!", E: "b64", ID: id}.String()
	}
	return JSONLine{T: t, S: src, D: g.body(), ID: id}.String()
}

func (g *Adversary) malformed() string {
	t := g.stamp()
	return []string{
		"{not json\n",
		fmt.Sprintf(`{"t":%q,"s":"bogus","d":"x"}`+"\n", t),
		`{"t":"yesterday","s":"stdout","d":"x"}` + "\n",
		fmt.Sprintf(`{"t":%q,"s":"stdout","d":12}`+"\n", t),
		fmt.Sprintf(`{"t":%q,"s":"stdout","d":"x"} trailing`+"\n", t),
		`["t","s"]` + "\n",
		`{"s":"stdout","d":"no t"}` + "\n",
		fmt.Sprintf(`{"t":%q,"s":"stdout","d":"x","id":-1}`+"\n", t),
	}[g.rng.IntN(8)]
}

func (g *Adversary) runtimeLine() string {
	t := time.Unix(0, g.clock).UTC()
	switch g.rng.IntN(8) {
	case 0:
		return "  continuation without a stamp \x1b[33mwarn\x1b[0m\n"
	case 1:
		return "raw \xff\xfe bytes, not UTF-8\n"
	case 2:
		return t.Format(time.RFC3339Nano) + "\t  tab-separated body\n"
	case 3:
		return t.Format("2006-01-02T15:04:05+00:00") + " offset stamps are not rule 1\n"
	}
	return t.Format("2006-01-02T15:04:05.000000Z") + " INFO " + g.text(g.rng.IntN(80)) + "\n"
}

func (g *Adversary) kernelLine() string {
	switch g.rng.IntN(6) {
	case 0:
		return "no stamp: console noise\n"
	case 1:
		return "\x1b[0;32m  OK  \x1b[0m Started unit\n"
	}
	return fmt.Sprintf("[%5d.%06d] %s\n", g.uptime/1e9, g.uptime%1e9/1e3, g.text(g.rng.IntN(60)))
}

func (g *Adversary) writeExec(s string) error {
	g.execBuf.WriteString(s)
	g.execLen += int64(len(s))
	if g.execLen < g.RotateAt {
		return nil
	}
	g.execLen = 0
	if err := g.Flush(); err != nil {
		return err
	}
	if err := RotateChain(g.logs); err != nil {
		return err
	}
	return appendFile(filepath.Join(g.logs, ExecLog), "")
}

// Flush appends what was generated to the files.
func (g *Adversary) Flush() error {
	for _, f := range []struct {
		name string
		b    *strings.Builder
	}{{ExecLog, &g.execBuf}, {RuntimeLog, &g.rtBuf}, {KernelLog, &g.kBuf}} {
		if f.b.Len() > 0 {
			if err := appendFile(filepath.Join(g.logs, f.name), f.b.String()); err != nil {
				return err
			}
			f.b.Reset()
		}
	}
	return nil
}

func appendFile(path, data string) error {
	f, err := openAppend(path)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("msbwriter: append: %w", err)
	}
	return nil
}

// Write appends about n bytes of entries, then flushes. With tails, it
// leaves a partial last line in exec.log and runtime.log.
func (g *Adversary) Write(n int, tails bool) error {
	if g.execTail != "" { // complete the partial lines first
		g.execBuf.WriteString(g.execTail)
		g.rtBuf.WriteString(g.rtTail)
		g.execTail, g.rtTail = "", ""
	}
	for written := 0; written < n; {
		g.tick()
		s, err := g.entry()
		if err != nil {
			return err
		}
		written += len(s)
	}
	if tails {
		g.tick()
		l := g.execLine()
		cut := 1 + g.rng.IntN(len(l)-1)
		g.execBuf.WriteString(l[:cut])
		g.execTail = l[cut:]
		r := g.runtimeLine()
		cut = 1 + g.rng.IntN(len(r)-1)
		g.rtBuf.WriteString(r[:cut])
		g.rtTail = r[cut:]
	}
	return g.Flush()
}

// entry generates one line of some file and returns it.
func (g *Adversary) entry() (string, error) {
	var s string
	switch k := g.rng.IntN(100); {
	case k < 60:
		s = g.execLine()
	case k < 72:
		s = g.runtimeLine()
		g.rtBuf.WriteString(s)
		return s, nil
	case k < 84:
		s = g.kernelLine()
		g.kBuf.WriteString(s)
		return s, nil
	case k < 88:
		s = g.malformed()
	case k < 90:
		s = "\n"
	case k < 91:
		g.rtBuf.WriteString("\n")
		return "\n", nil
	default:
		s = JSONLine{T: g.stamp(), S: "system", D: "lifecycle " + g.text(10)}.String()
	}
	return s, g.writeExec(s)
}

// StepBack moves the clock back, so that what is written next sorts before
// entries already written.
func (g *Adversary) StepBack(d time.Duration) { g.clock -= int64(d) }

// JSONLine is one exec.log line in the field order microsandbox writes,
// encoded by encoding/json (which escapes differently from AppendLine): an
// independent encoder for tests of readers.
type JSONLine struct {
	T  string  `json:"t"`
	S  string  `json:"s"`
	D  string  `json:"d"`
	ID *uint64 `json:"id,omitempty"`
	E  string  `json:"e,omitempty"`
}

// String returns the line with its newline.
func (x JSONLine) String() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // Encode adds the newline
	enc.SetEscapeHTML(false)
	_ = enc.Encode(x) // strings and a *uint64 always encode
	return b.String()
}
