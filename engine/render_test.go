package engine

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// TestTextTimestampRules covers the timestamp rules of docs/formats.md ("Text lines") on runtime.log and
// kernel.log, uptime stamps being relative to kernel.log's birth time.
func TestTextTimestampRules(t *testing.T) {
	d := newSandboxDir(t)
	d.runtime(
		"first lines inherit the file's birth time",
		"  and so does the second",
		tsAt(100)+" stamped",
		"continuation inherits the stamp",
		"2026-05-01T12:00:00+02:00 an offset stamp is not rule 1",
		"\x1b[36m"+tsAt(200)+"\x1b[0m \x1b[1mcolored\x1b[0m",
		"[    1.500000] an uptime line in runtime.log",
		"inherits the uptime line's time",
	)
	d.kernel(
		"kernel noise before any stamp",
		"[    0.000000] Linux version",
		"[   12.345678] eth0: up",
		"no stamp: inherits 12.345678",
		"[ 3600.000001] an hour later",
	)
	_, rtBirth := statx(t, d.path(RuntimeLogName))
	_, kBirth := statx(t, d.path(KernelLogName))
	sb := d.open()
	want := map[string]Time{
		"first lines inherit the file's birth time\n":               rtBirth,
		"  and so does the second\n":                                rtBirth,
		"stamped\n":                                                 nsAt(100),
		"continuation inherits the stamp\n":                         nsAt(100),
		"2026-05-01T12:00:00+02:00 an offset stamp is not rule 1\n": nsAt(100),
		"colored\n": nsAt(200),
		"[    1.500000] an uptime line in runtime.log\n": plusNs(rtBirth, 1500000000),
		"inherits the uptime line's time\n":              plusNs(rtBirth, 1500000000),
		"kernel noise before any stamp\n":                kBirth,
		"[    0.000000] Linux version\n":                 kBirth,
		"[   12.345678] eth0: up\n":                      plusNs(kBirth, 12345678000),
		"no stamp: inherits 12.345678\n":                 plusNs(kBirth, 12345678000),
		"[ 3600.000001] an hour later\n":                 plusNs(kBirth, 3600000001000),
	}
	got := entriesOf(t, sb, 1<<SourceSystem)
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for _, e := range got {
		w, ok := want[string(e.Body)]
		if !ok {
			t.Errorf("unexpected body %q", e.Body)
			continue
		}
		if e.Time != w || e.Source != SourceSystem || e.HasID {
			t.Errorf("%q: time %s, source %v, id %v; want %s, system, no id", e.Body,
				testutil.RFC3339Nano(e.Time), e.Source, e.HasID, testutil.RFC3339Nano(w))
		}
	}
}

// TestANSIStripping: escapes are stripped in merged and system only; the
// raw views and merged.jsonl keep exec bodies as written. Text logs are
// stripped on input (docs/formats.md, "Text lines"), so their escapes appear nowhere.
func TestANSIStripping(t *testing.T) {
	d := newSandboxDir(t)
	colored := "\x1b[1;31mred\x1b[0m \x1b]0;title\x07plain\n"
	d.exec(jl(0, "stdout", colored), jl(1, "output", colored), jl(2, "system", "\x1b[32mstarted\x1b[0m"))
	d.runtime(rl(3, "\x1b[33mrt warn\x1b[0m"))
	sb := d.open()
	for _, v := range []namedView{{"stdout", ViewStdout}, {"output", ViewOutput}} {
		if got := string(snap(t, sb, v.v)); got != colored {
			t.Errorf("%s = %q, want the escapes kept", v.name, got)
		}
	}
	wantMerged := tsAt(0) + " stdout red plain\n" + tsAt(1) + " output red plain\n" + tsAt(2) + " system started\n" + tsAt(3) + " system rt warn\n"
	if got := string(snap(t, sb, ViewMerged)); got != wantMerged {
		t.Errorf("merged:\n%s\nwant:\n%s", got, wantMerged)
	}
	wantSystem := tsAt(2) + " system started\n" + tsAt(3) + " system rt warn\n"
	if got := string(snap(t, sb, ViewSystem)); got != wantSystem {
		t.Errorf("system:\n%s\nwant:\n%s", got, wantSystem)
	}
	js := parseJSONL(t, snap(t, sb, ViewMergedJSON))
	if got := bodies(js); len(got) != 4 || got[0] != colored || got[1] != colored || got[2] != "\x1b[32mstarted\x1b[0m" || got[3] != "rt warn\n" {
		t.Errorf("merged.jsonl bodies %q", got)
	}
}

// TestRenderFormats pins the renderings of docs/formats.md byte for byte.
func TestRenderFormats(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(
		xline{T: "2026-05-01T12:00:00.123456+02:00", S: "stdout", D: "hi\n", ID: ptr(uint64(7))}.String(),
		jl(1, "stderr", "two\nlines\n"),
		jl(2, "stdout", "no newline"),
		jl(3, "output", ""),
		jl(4, "stdout", "\n"),
		jl(5, "stdout", "a\n\nb"),
		xline{T: "2026-05-01T10:00:00.0069999Z", S: "system", D: "sys \"q\" \\ \t\x01"}.String(),
	)
	sb := d.open()
	wantText := "" +
		"2026-05-01T10:00:00.123Z stdout hi\n" +
		"2026-05-01T10:00:00.001Z stderr two\n" +
		"2026-05-01T10:00:00.001Z stderr lines\n" +
		"2026-05-01T10:00:00.002Z stdout no newline\n" +
		"2026-05-01T10:00:00.003Z output \n" +
		"2026-05-01T10:00:00.004Z stdout \n" +
		"2026-05-01T10:00:00.005Z stdout a\n" +
		"2026-05-01T10:00:00.005Z stdout \n" +
		"2026-05-01T10:00:00.005Z stdout b\n" +
		"2026-05-01T10:00:00.006Z system sys \"q\" \\ \t\\x01\n"
	if got := string(snap(t, sb, ViewMerged)); got != wantText {
		t.Errorf("merged:\n%q\nwant:\n%q", got, wantText)
	}
	if got, want := string(snap(t, sb, ViewStdout)), "hi\nno newline\na\n\nb"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	gen := inodeOf(t, d.path(ExecLogName))
	var off uint64
	var lines []string
	data, err := os.ReadFile(d.path(ExecLogName))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n") {
		off += uint64(len(l)) + 1 // TrimSuffix dropped the last newline: SplitAfter kept the others
		if strings.HasSuffix(l, "\n") {
			off--
		}
		lines = append(lines, encodeCursor(pos(gen, off), logline.Pos{}, logline.Pos{}))
	}
	wantJSON := "" +
		`{"t":"2026-05-01T10:00:00.123Z","s":"stdout","d":"hi\n","id":7,"cursor":"` + lines[0] + `"}` + "\n" +
		`{"t":"2026-05-01T10:00:00.001Z","s":"stderr","d":"two\nlines\n","cursor":"` + lines[1] + `"}` + "\n" +
		`{"t":"2026-05-01T10:00:00.002Z","s":"stdout","d":"no newline","cursor":"` + lines[2] + `"}` + "\n" +
		`{"t":"2026-05-01T10:00:00.003Z","s":"output","d":"","cursor":"` + lines[3] + `"}` + "\n" +
		`{"t":"2026-05-01T10:00:00.004Z","s":"stdout","d":"\n","cursor":"` + lines[4] + `"}` + "\n" +
		`{"t":"2026-05-01T10:00:00.005Z","s":"stdout","d":"a\n\nb","cursor":"` + lines[5] + `"}` + "\n" +
		`{"t":"2026-05-01T10:00:00.006Z","s":"system","d":"sys \"q\" \\ \t\u0001","cursor":"` + lines[6] + `"}` + "\n"
	if got := string(snap(t, sb, ViewMergedJSON)); got != wantJSON {
		t.Errorf("merged.jsonl:\n%s\nwant:\n%s", got, wantJSON)
	}
	// A body that is not UTF-8, with an id: e comes after id.
	d.exec(xline{T: tsAt(9), S: "stdout", D: "/w==", E: "b64", ID: ptr(uint64(1<<64 - 1))}.String())
	expireHold(sb)
	js := parseJSONL(t, snap(t, sb, ViewMergedJSON))
	if k := strings.Join(js[len(js)-1].Keys, ","); k != "t,s,d,id,e,cursor" {
		t.Errorf("keys %s, want t,s,d,id,e,cursor", k)
	}
	if last := js[len(js)-1]; *last.ID != 1<<64-1 || last.D != "/w==" {
		t.Errorf("last entry %+v", last)
	}
}

func ptr[T any](v T) *T { return &v }

// TestSameTimestampOriginOrder: equal timestamps keep the origin order
// exec, runtime, kernel, and sub-millisecond precision orders entries that
// render with the same millisecond.
func TestSameTimestampOriginOrder(t *testing.T) {
	d := newSandboxDir(t)
	d.kernel(tsAt(0) + " kernel")
	d.runtime(tsAt(0)+" runtime", "2026-05-01T10:00:00.000100Z runtime 100us")
	d.exec(jl(0, "stdout", "exec\n"), xline{T: "2026-05-01T10:00:00.0002Z", S: "stdout", D: "exec 200us\n"}.String())
	got := bodies(parseJSONL(t, snap(t, d.open(), ViewMergedJSON)))
	want := []string{"exec\n", "runtime\n", "kernel\n", "runtime 100us\n", "exec 200us\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("order %q, want %q", got, want)
	}
}

// TestEmptyLines: empty lines are skipped (and counted) in every file.
func TestEmptyLines(t *testing.T) {
	d := newSandboxDir(t)
	d.exec("\n\n", jl(0, "stdout", "x\n"), "\n")
	d.runtime("", rl(1, "r"), "")
	d.kernel("")
	sb := d.open()
	st, _ := sb.Stat(ViewMerged)
	if st.Skipped.Empty != 6 || st.Skipped.Malformed != 0 {
		t.Errorf("Skipped %+v, want 6 empty", st.Skipped)
	}
	if got := splitLines(snap(t, sb, ViewMerged)); len(got) != 2 {
		t.Errorf("merged %s", quoteLines(got))
	}
	if !utf8.ValidString(string(snap(t, sb, ViewMergedJSON))) {
		t.Error("merged.jsonl is not UTF-8")
	}
}
