package test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// dupKeyLines are exec.log lines, one per second from 10:00:00: kept
// lines ("keep N") and lines repeating one of the known keys ("DUP …"),
// which microsandbox's serde-derived parser rejects. An unknown key may
// repeat: "keep 4" repeats x.
var dupKeyLines = []string{
	`{"t":"2026-05-01T10:00:00Z","s":"stdout","d":"keep 1\n","id":1}`,
	`{"t":"2026-05-01T10:00:01Z","t":"2026-05-01T10:00:01Z","s":"stdout","d":"DUP t\n","id":1}`,
	`{"t":"2026-05-01T10:00:02Z","s":"stdout","s":"stderr","d":"DUP s\n","id":1}`,
	`{"t":"2026-05-01T10:00:03Z","s":"stdout","d":"keep 2\n","id":1}`,
	"", // a rotation here: the lines above go to exec.log.1
	`{"t":"2026-05-01T10:00:04Z","s":"stdout","d":"DUP d\n","d":"DUP d again\n","id":1}`,
	`{"t":"2026-05-01T10:00:05Z","s":"stdout","d":"RFVQIGUK","e":"b64","e":"b64","id":1}`,
	`{"t":"2026-05-01T10:00:06Z","s":"stdout","d":"keep 3\n","id":1}`,
	`{"t":"2026-05-01T10:00:07Z","s":"stdout","d":"DUP id\n","id":1,"id":1}`,
	`{"t":"2026-05-01T10:00:08Z","s":"stdout","d":"keep 4\n","x":1,"x":2,"id":1}`,
}

// dupKeyKept is what a reader shows of dupKeyLines: the kept lines' bodies.
var dupKeyKept = []string{"keep 1\n", "keep 2\n", "keep 3\n", "keep 4\n"}

// dupKeySkipped is how many lines of dupKeyLines repeat a known key.
const dupKeySkipped = 5

// dupKeyHome writes dupKeyLines into sandbox dup of a new home, rotating
// where a line is empty, as microsandbox rotates.
func dupKeyHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	appendDupKeyLines(t, home, "")
	return home
}

// appendDupKeyLines appends dupKeyLines to sandbox dup of home, then the
// line last (a kept line of that body) unless it is empty.
func appendDupKeyLines(t *testing.T, home, last string) {
	t.Helper()
	s, err := msbwriter.Create(home, "dup", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, l := range dupKeyLines {
		if l == "" {
			err = s.Rotate()
		} else {
			err = s.ExecLine([]byte(l + "\n"))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if last != "" {
		if err := s.Exec(msbwriter.Chunk{Source: "stdout", Data: []byte(last), ID: 1, HasID: true}); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonBodies returns the d of each JSON line of out, failing on a line
// that is not an object with a string d.
func jsonBodies(t *testing.T, what, out string) []string {
	t.Helper()
	var ds []string
	for _, l := range lines([]byte(out)) {
		var e struct {
			D *string `json:"d"`
			E string  `json:"e"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.D == nil || e.E != "" {
			t.Fatalf("%s: line %q: %v (want an object with a text d)", what, l, err)
		}
		ds = append(ds, *e.D)
	}
	return ds
}

// TestGapsDuplicateKeySkipped: an exec.log line repeating t, s, d, e or id
// is skipped in every reader — the mount's snapshots (cat), `logs` and
// `logs --json`, and `ship --once` into the OpenTelemetry Collector — and
// the same skip is counted in the view's stat, where the engine counts
// bad lines; a repeated unknown key is kept.
func TestGapsDuplicateKeySkipped(t *testing.T) {
	home := dupKeyHome(t)
	stdout := strings.Join(dupKeyKept, "")
	var merged []string
	for i, sec := range []int{0, 3, 6, 8} {
		merged = append(merged, fmt.Sprintf("2026-05-01T10:00:0%d.000Z stdout %s", sec, strings.TrimSuffix(dupKeyKept[i], "\n")))
	}

	t.Run("mount", func(t *testing.T) {
		m := mount(t, home)
		cat := func(elem ...string) string {
			return sh(t, 10*time.Second, "cat "+q(m.path(elem...)))
		}
		if got := cat("dup", "stdout"); got != stdout {
			t.Errorf("cat stdout: %q, want %q", got, stdout)
		}
		if got := cat("dup", "sessions", "1", "stdout"); got != stdout {
			t.Errorf("cat sessions/1/stdout: %q, want %q", got, stdout)
		}
		if got := lines([]byte(cat("dup", "merged"))); !slices.Equal(got, merged) {
			t.Errorf("cat merged: %q, want %q", got, merged)
		}
		if got := jsonBodies(t, "merged.jsonl", cat("dup", "merged.jsonl")); !slices.Equal(got, dupKeyKept) {
			t.Errorf("merged.jsonl bodies: %q, want %q", got, dupKeyKept)
		}
	})

	t.Run("logs", func(t *testing.T) {
		out, err := exec.Command(binary, "logs", "--home", home, "dup").Output()
		if err != nil || string(out) != stdout {
			t.Errorf("logs dup: %q, %v; want %q", out, err, stdout)
		}
		out, err = exec.Command(binary, "logs", "--json", "--home", home, "dup").Output()
		if err != nil {
			t.Fatalf("logs --json dup: %v", err)
		}
		if got := jsonBodies(t, "logs --json", string(out)); !slices.Equal(got, dupKeyKept) {
			t.Errorf("logs --json bodies: %q, want %q", got, dupKeyKept)
		}
	})

	t.Run("ship", func(t *testing.T) {
		recv := newCollector(t)
		recv.start(t)
		cmd := exec.Command(binary, "ship", "--home", home, "--to", recv.target(), "--state-dir", filepath.Join(t.TempDir(), "state"), "--once")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ship --once: %v\n%s", err, out)
		}
		recv.stop(t)
		var got []string
		for _, r := range recv.records(t) {
			if r.sandbox == "dup" {
				got = append(got, r.body+"\n") // a record's body has no trailing newline
			}
		}
		if !slices.Equal(got, dupKeyKept) {
			t.Errorf("shipped bodies: %q, want %q", got, dupKeyKept)
		}
	})

	t.Run("counted", func(t *testing.T) {
		h, err := engine.OpenHome(home)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		sb, err := h.Sandbox("dup")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []engine.View{engine.ViewMerged, engine.ViewStdout} {
			st, err := sb.Stat(v)
			if err != nil {
				t.Fatal(err)
			}
			if st.Skipped.Malformed != dupKeySkipped {
				t.Errorf("Stat(%v).Skipped = %+v, want %d malformed", v, st.Skipped, dupKeySkipped)
			}
		}
		out, err := exec.Command(binary, "list", "--format", "json", "--home", home).Output()
		if err != nil {
			t.Fatalf("list --format json: %v", err)
		}
		var row struct {
			Name    string `json:"name"`
			Skipped *int   `json:"skipped_lines"`
		}
		if err := json.Unmarshal(out, &row); err != nil || row.Name != "dup" || row.Skipped == nil || *row.Skipped != dupKeySkipped {
			t.Errorf("list --format json: %s (%v); want dup with skipped_lines %d", out, err, dupKeySkipped)
		}
	})

	// Last: it appends to the sandbox.
	t.Run("follow", func(t *testing.T) {
		m := mount(t, home)
		readers := []*reader{
			startReader(t, "cat", m.path("dup", "stdout.follow")),
			startReader(t, binary, "logs", "-f", "--home", home, "dup"),
		}
		want := append(slices.Clone(dupKeyKept), dupKeyKept...)
		want = append(want, "keep end\n")
		for _, r := range readers {
			for _, w := range dupKeyKept {
				if got := r.next(t, 10*time.Second); got+"\n" != w {
					t.Fatalf("%s before the appends: %q, want %q", r.cmd.Args, got, w)
				}
			}
		}
		appendDupKeyLines(t, home, "keep end\n")
		for _, r := range readers {
			got := slices.Clone(dupKeyKept)
			for len(got) < len(want) {
				got = append(got, r.next(t, 10*time.Second)+"\n")
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %q, want %q", r.cmd.Args, got, want)
			}
		}
	})
}
