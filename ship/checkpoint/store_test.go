package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cp, err := s.Load("foo"); cp != nil || err != nil {
		t.Fatalf("no checkpoint yet: got %v, %v", cp, err)
	}
	want := &Checkpoint{Sandbox: "foo", LogsDev: 1, LogsIno: 2, Cursor: "AQ==", LastTime: "2026-05-01T10:00:00Z"}
	for range 2 { // the second save replaces the first
		if err := s.Save(want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Load("foo")
	if err != nil {
		t.Fatal(err)
	}
	if got.Cursor != want.Cursor || got.LogsIno != 2 || got.Sandbox != "foo" || got.Format != Format {
		t.Fatalf("loaded %+v, saved %+v", got, want)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != ".lock" && e.Name() != "foo.checkpoint" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bar := &Checkpoint{Sandbox: "bar", Cursor: "AQ=="}
	if err := s.Save(bar); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(s.Path("bar"))
	big := make([]byte, maxFileSize+10)
	for name, tc := range map[string]struct {
		data []byte
		want error
	}{
		"garbage":   {[]byte("\x00\x01 not json"), ErrCorrupt},
		"empty":     {nil, ErrCorrupt},
		"truncated": {good[:len(good)/2], ErrCorrupt},
		"format":    {[]byte(`{"format":"other/9","sandbox":"x","cursor":"AQ=="}`), ErrCorrupt},
		"nocursor":  {[]byte(`{"format":"` + Format + `","sandbox":"x"}`), ErrCorrupt},
		"unknown":   {[]byte(`{"format":"` + Format + `","sandbox":"x","cursor":"AQ==","extra":1}`), ErrCorrupt},
		"huge":      {big, ErrCorrupt},
		"foreign":   {good, ErrForeign}, // bar's file under x's name
	} {
		t.Run(name, func(t *testing.T) {
			path := s.Path("x")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			cp, err := s.Load("x")
			if cp != nil || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, %v; want %v", cp, err, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if after, _ := os.ReadFile(path); string(after) != string(tc.data) {
				t.Error("the bad file was changed")
			}
		})
	}
}

func TestSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	target := filepath.Join(t.TempDir(), "elsewhere")
	os.WriteFile(target, []byte("{}"), 0o600)
	if err := os.Symlink(target, s.Path("y")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("y"); err == nil {
		t.Fatal("a symbolic link was followed")
	}
}

func TestOneOwner(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	s.Close()
	s2, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

// A sandbox name of 255 bytes (the most a directory takes) has a
// checkpoint too.
func TestLongName(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	name := strings.Repeat("n", 255)
	if err := s.Save(&Checkpoint{Sandbox: name, Cursor: "AQ=="}); err != nil {
		t.Fatal(err)
	}
	cp, err := s.Load(name)
	if err != nil || cp == nil || cp.Sandbox != name {
		t.Fatalf("Load: %v, %v", cp, err)
	}
	if other, err := s.Load(strings.Repeat("n", 254) + "m"); other != nil || err != nil {
		t.Fatalf("another long name: %v, %v", other, err)
	}
}

// A save cut short by kill -9 leaves a temporary file: the next Open
// removes it, and keeps the checkpoints.
func TestOpenRemovesTemporaries(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Save(&Checkpoint{Sandbox: "foo", Cursor: "AQ=="})
	s.Save(&Checkpoint{Sandbox: ".tmp-7", Cursor: "AQ=="}) // a sandbox's name, not a temporary file
	os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("{"), 0o600)
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123")); !os.IsNotExist(err) {
		t.Errorf("the temporary file is still there: %v", err)
	}
	for _, name := range []string{"foo", ".tmp-7"} {
		if cp, err := s.Load(name); err != nil || cp == nil {
			t.Errorf("the checkpoint of %s: %v, %v", name, cp, err)
		}
	}
}

// A save that fails says so by the checkpoint's path and the system's
// reason, the same way every time (not by its temporary file's name), and
// leaves no temporary file behind.
func TestSaveFailureReadsTheSame(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.MkdirAll(filepath.Join(s.Path("foo"), "x"), 0o700); err != nil { // a directory took its name
		t.Fatal(err)
	}
	var msgs []string
	for range 2 {
		err := s.Save(&Checkpoint{Sandbox: "foo", Cursor: "AQ=="})
		if err == nil {
			t.Fatal("saved over a directory")
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] || !strings.Contains(msgs[0], s.Path("foo")) || strings.Contains(msgs[0], tempPrefix) {
		t.Errorf("errors %q: want the same twice, naming %s and no temporary file", msgs, s.Path("foo"))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
