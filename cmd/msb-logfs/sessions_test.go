package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/microsandbox/msb-logfs/cursorfs/cursorfstest"
)

// TestSessionsCommand: sessions prints one aligned line per session, by
// id, under a header, and --json one object per line with every field of
// the info files; an unknown sandbox is exit 2.
func TestSessionsCommand(t *testing.T) {
	home := sessions(t) // ids 1, 2, 12 and a system entry
	got := mustRun(t, "sessions", "foo", "--home", home)
	want := fmt.Sprintf(`ID  FIRST                     LAST                      SOURCES        ENTRIES  BYTES
 1  %s  %s  stdout,stderr        2      8
 2  %s  %s  stdout,stderr        2     11
12  %s  %s  stdout               1      5
`, stamp(1), stamp(2), stamp(4), stamp(5), stamp(6), stamp(6))
	if got != want {
		t.Errorf("table:\n got %q\nwant %q", got, want)
	}
	out := mustRun(t, "sessions", "foo", "--home", home, "--json")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("--json: %q, want 3 lines", out)
	}
	for i, id := range []uint64{1, 2, 12} {
		var v cursorfstest.Info
		dec := json.NewDecoder(strings.NewReader(lines[i]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil || v.ID != id || v.Cursor == "" || !strings.HasSuffix(v.First, "000000Z") {
			t.Errorf("--json line %d: %q: %v", i, lines[i], err)
		}
	}
	// The cursor of session 2's last entry resumes after it: session 12's
	// entry is all that follows.
	var two struct{ Cursor string }
	if err := json.Unmarshal([]byte(lines[1]), &two); err != nil {
		t.Fatal(err)
	}
	if got := mustRun(t, "logs", "foo", "--home", home, "--source", "all", "--after-cursor", two.Cursor); got != "five\n" {
		t.Errorf("after session 2's cursor: %q, want five", got)
	}
	for _, args := range [][]string{{"sessions", "--home", home, "nope"}, {"sessions", "--home", home}, {"sessions", "--home", home, "foo", "bar"}} {
		out, errOut, code := run(t, args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if got := mustRun(t, "sessions", "foo", "--home", sessionless(t)); got != "ID  FIRST  LAST  SOURCES  ENTRIES  BYTES\n" {
		t.Errorf("no sessions: %q", got)
	}
}

// sessionless makes a sandbox foo with one system entry only.
func sessionless(t *testing.T) string {
	home := t.TempDir()
	chunk(t, newSandbox(t, home, "foo"), 1, "system", "boot\n", 0)
	return home
}
