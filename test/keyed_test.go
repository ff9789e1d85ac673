package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestCursorAndInfoKept: a second read of an unchanged cursor or info comes
// from the kernel's cache (no READ reaches the mount, no GETATTR either), and
// after a write the next read shows the new cursor and the session's new
// count of entries: each state of those files is its own inode.
func TestCursorAndInfoKept(t *testing.T) {
	s, m, _ := dirsMount(t)
	cursor, info := m.path("box", "cursor"), m.path("box", "sessions", "3", "info")
	cursorNow := func() string {
		return sh(t, 5*time.Second, fmt.Sprintf("%s cursor --home %s box", q(binary), q(m.home)))
	}
	entries := func() int {
		var v struct{ Entries int }
		if err := json.Unmarshal(mustRead(t, info), &v); err != nil {
			t.Fatalf("info: %v", err)
		}
		return v.Entries
	}
	c0, n0 := string(mustRead(t, cursor)), entries()
	if c0 != cursorNow() {
		t.Fatalf("cursor file %q, command %q", c0, cursorNow())
	}
	from := m.logLen()
	if got := string(mustRead(t, cursor)); got != c0 {
		t.Errorf("cursor read again: %q, first %q", got, c0)
	}
	if got := entries(); got != n0 {
		t.Errorf("info read again: %d entries, first %d", got, n0)
	}
	if got := m.requests(from); got["READ"] != 0 || got["GETATTR"] != 0 {
		t.Errorf("reading cursor and info again made %d READ and %d GETATTR requests, want 0 (requests: %v)", got["READ"], got["GETATTR"], got)
	}
	s.chunk(3, "stdout", "one more line\n")
	time.Sleep(150 * time.Millisecond) // past the engine's hold of the state shown
	if got, want := string(mustRead(t, cursor)), cursorNow(); got != want || got == c0 {
		t.Errorf("cursor after a write: %q, want %q (before it: %q)", got, want, c0)
	}
	if got := entries(); got != n0+1 {
		t.Errorf("info after a write: %d entries, want %d", got, n0+1)
	}

	// A runtime line older than session 3's last entry moves the cursor
	// of that entry (which consumes it) and nothing else the info's stat
	// shows: its size, time and entries stay.
	before := mustRead(t, info)
	fi0, err := os.Stat(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.w.Runtime("2026-05-01T09:59:00.000Z INFO runtime: an older line"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	after := mustRead(t, info)
	fi1, err := os.Stat(info)
	if err != nil {
		t.Fatal(err)
	}
	if fi0.Size() != fi1.Size() || !fi0.ModTime().Equal(fi1.ModTime()) {
		t.Fatalf("info's size or time moved (%d %v, then %d %v): the step would prove nothing", fi0.Size(), fi0.ModTime(), fi1.Size(), fi1.ModTime())
	}
	if bytes.Equal(before, after) {
		t.Fatalf("info unchanged after an older runtime line: %s (the step would prove nothing, or the cached page was served)", after)
	}
	if want := sh(t, 5*time.Second, fmt.Sprintf("%s sessions --json --home %s box | grep '\"id\":3,'", q(binary), q(m.home))); string(after) != want {
		t.Errorf("info after an older runtime line:\n%s\nwant (msb-logfs sessions --json):\n%s", after, want)
	}
}
