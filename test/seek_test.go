package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

type jsonEntry struct {
	T, S, D, Cursor string
}

func parseJSONL(t *testing.T, data []byte) []jsonEntry {
	t.Helper()
	var out []jsonEntry
	for _, l := range lines(data) {
		var e jsonEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		out = append(out, e)
	}
	return out
}

// seekFile is an open seek file.
type seekFile struct {
	t *testing.T
	f *os.File
}

func openSeek(t *testing.T, p string) *seekFile {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &seekFile{t: t, f: f}
}

// pos writes one position line and returns the write's errno.
func (s *seekFile) pos(line string) syscall.Errno {
	_, err := s.f.Write([]byte(line))
	return errnoOf(err)
}

// read reads until end of file.
func (s *seekFile) read() []jsonEntry {
	s.t.Helper()
	data, err := io.ReadAll(s.f)
	if err != nil {
		s.t.Fatal(err)
	}
	return parseJSONL(s.t, data)
}

func TestSeek(t *testing.T) {
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	home, w := quietBox(t, 0)
	for i := range 20 {
		c := msbwriter.Chunk{Time: base.Add(time.Duration(i) * time.Second), Source: msbwriter.SourceStderr, Data: fmt.Appendf(nil, "e%02d\n", i)}
		if err := w.Exec(c); err != nil {
			t.Fatal(err)
		}
	}
	other := corpusHome(t, "other", 32<<10)
	foreign := strings.TrimSpace(sh(t, 5*time.Second, fmt.Sprintf("%s cursor --home %s other", q(binary), q(other))))
	m := mount(t, home)
	s := openSeek(t, m.path("box", "seek"))

	all := s.read() // a new handle starts at start
	if want := parseJSONL(t, render(t, home, "box", engine.ViewMergedJSON)); len(all) != 20 || all[19] != want[19] {
		t.Fatalf("from start: %d entries, want %d", len(all), len(want))
	}
	if got := s.read(); len(got) != 0 {
		t.Fatalf("at the end: %d entries, want end of file", len(got))
	}
	if e := s.pos(all[4].Cursor + "\n"); e != 0 {
		t.Fatalf("write cursor: %v", e)
	}
	// A write of several lines is refused whole: the last line does not
	// win, nor the first.
	several := []string{"start\nend\n", "end\nstart\n", "start\n\n", "\nend\n", all[0].Cursor + "\n" + all[9].Cursor + "\n"}
	for _, bad := range append([]string{"garbage\n", "\n", foreign + "\n", "2026-02-30T10:00:00Z\n"}, several...) {
		if e := s.pos(bad); e != syscall.EINVAL {
			t.Fatalf("write %q: errno %v, want EINVAL", bad, e)
		}
	}
	if got := s.read(); len(got) != 15 || got[0] != all[5] {
		t.Fatalf("after a cursor and bad writes: %d entries from %v, want 15 from e05", len(got), got)
	}
	mustPos(t, s, "start\n")
	if got := s.read(); len(got) != 20 {
		t.Fatalf("after start: %d entries", len(got))
	}
	mustPos(t, s, "2026-05-01T10:00:07.5Z\n")
	if got := s.read(); len(got) != 12 || got[0].D != "e08\n" {
		t.Fatalf("after a time: %d entries from %v", len(got), got)
	}
	mustPos(t, s, "end\n")
	mark(t, w, "appended")
	if got := s.read(); len(got) != 1 || got[0].D != "appended\n" {
		t.Fatalf("after end and an append: %v", got)
	}
	mark(t, w, "later")
	if got := s.read(); len(got) != 1 || got[0].D != "later\n" {
		t.Fatalf("a later read: %v", got)
	}
}

func mustPos(t *testing.T, s *seekFile, line string) {
	t.Helper()
	if e := s.pos(line); e != 0 {
		t.Fatalf("write %q: %v", line, e)
	}
}

// TestSeekShellBackup runs the documented incremental backup with bash,
// printf, cat, tail and jq.
func TestSeekShellBackup(t *testing.T) {
	home, w := quietBox(t, 30)
	m := mount(t, home)
	backup := t.TempDir() + "/backup.jsonl"
	step := fmt.Sprintf(`set -e
exec 3<>%s
if [ -s %[2]s ]; then printf '%%s\n' "$(tail -n1 %[2]s | jq -r .cursor)" >&3; fi
cat <&3 >>%[2]s`, q(m.path("box", "seek")), q(backup))
	sh(t, 10*time.Second, step)
	writeLines(t, w, 30, 45)
	sh(t, 10*time.Second, step)
	sh(t, 10*time.Second, step) // nothing new: appends nothing
	got := mustRead(t, backup)
	if want := render(t, home, "box", engine.ViewMergedJSON); !bytes.Equal(got, want) {
		t.Fatalf("backup: %d bytes, merged.jsonl %d", len(got), len(want))
	}
	_, stderr, err := shErr(5*time.Second, fmt.Sprintf(`exec 3<>%s; printf 'nonsense\n' >&3`, q(m.path("box", "seek"))))
	if err == nil || !strings.Contains(stderr, "Invalid argument") {
		t.Fatalf("printf of garbage: %v %q; want Invalid argument", err, stderr)
	}
}
