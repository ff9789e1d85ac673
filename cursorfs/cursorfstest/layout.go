package cursorfstest

import (
	"bytes"
	"encoding/json"
	"slices"
	"syscall"
	"testing"
	"time"
)

// The sessions of the home NewHome makes: the lines the checks append
// are SessionID's; a session directory's Target is SessionID's.
const (
	SessionID    = 1
	OtherSession = 2
)

// layout is what a directory holds: the views (each a snapshot, a .follow
// and a .live file), the other files it lists, the files found by name
// only, and names it does not hold.
type layout struct {
	views  []string
	listed []string // merged.jsonl, then cursor or info
	byName []string
	absent []string
}

// snapshots returns the names the directory lists (but boot-error.json
// and sessions/).
func (l layout) snapshots() []string { return append(append([]string{}, l.listed...), l.views...) }

func newLayout(views, listed, byName, absent []string) layout {
	for _, v := range views {
		byName = append(byName, v+".follow", v+".live")
	}
	return layout{views: views, listed: listed, byName: byName, absent: absent}
}

var (
	sandboxLayout = newLayout(
		[]string{"merged", "stdout", "stderr", "output", "system"},
		[]string{"merged.jsonl", "cursor"},
		[]string{"seek"},
		[]string{"nope", "merged.live.live", "boot-error.json", "live", ".live", "Merged", "info", "1"},
	)
	// A session has no system entries, no seek and no cursor file.
	sessionLayout = newLayout(
		[]string{"merged", "stdout", "stderr", "output"},
		[]string{"merged.jsonl", "info"},
		nil,
		[]string{"nope", "merged.live.live", "system", "system.follow", "system.live", "seek", "cursor", "boot-error.json", "sessions", "Info"},
	)
)

// layout returns what e's directory holds.
func (e Env) layout() layout {
	if e.Session {
		return sessionLayout
	}
	return sandboxLayout
}

// SessionChecks is the table of a session's directory: the checks of
// Checks but seek's, and what only a session's files promise.
var SessionChecks = append(slices.DeleteFunc(slices.Clone(Checks), func(c Check) bool { return c.Name == "seek positions" }),
	Check{"only the session's entries", checkOnlySession},
	Check{"info", checkInfo},
)

func checkOnlySession(t *testing.T, e Env) {
	for _, name := range []string{"stdout", "merged", "merged.jsonl"} {
		data := readAll(t, open(t, e, name, syscall.O_RDONLY), 0)
		if bytes.Contains(data, []byte("other ")) || bytes.Contains(data, []byte("not ")) || !bytes.Contains(data, []byte("line 00000")) {
			t.Errorf("%s holds another session's lines, or misses its own: %q", name, tail(data))
		}
	}
	for _, name := range []string{"stderr", "output"} {
		if data := readAll(t, open(t, e, name, syscall.O_RDONLY), 0); len(data) != 0 {
			t.Errorf("%s of a session that wrote none: %q", name, tail(data))
		}
	}
}

// Info is the content of a session's info file.
type Info struct {
	ID      uint64   `json:"id"`
	First   string   `json:"first"`
	Last    string   `json:"last"`
	Sources []string `json:"sources"`
	Entries int64    `json:"entries"`
	Bytes   int64    `json:"bytes"`
	Cursor  string   `json:"cursor"`
}

func checkInfo(t *testing.T, e Env) {
	// The checks before appended lines, maybe within the 100 ms a state
	// shown before them is held: past that, every file read below shows
	// them, however slowly this check runs.
	time.Sleep(heldState + 20*time.Millisecond)
	data := readAll(t, open(t, e, "info", syscall.O_RDONLY), 0)
	var info Info
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil || !bytes.HasSuffix(data, []byte("}\n")) {
		t.Fatalf("info %q: %v", data, err)
	}
	stdout := readAll(t, open(t, e, "stdout", syscall.O_RDONLY), 0)
	lines := int64(bytes.Count(stdout, []byte("\n")))
	if info.ID != SessionID || len(info.Sources) != 1 || info.Sources[0] != "stdout" ||
		info.Entries != lines || info.Bytes != int64(len(stdout)) || info.Cursor == "" ||
		len(info.First) != len("2026-05-01T10:00:00.123456789Z") || info.Last < info.First {
		t.Errorf("info %s; stdout has %d lines, %d bytes", data, lines, len(stdout))
	}
	jsonl := readAll(t, open(t, e, "merged.jsonl", syscall.O_RDONLY), 0)
	if !bytes.HasSuffix(jsonl, []byte(`"cursor":"`+info.Cursor+`"}`+"\n")) {
		t.Errorf("info's cursor %s is not that of merged.jsonl's last entry: %q", info.Cursor, tail(jsonl))
	}
}
