package walk

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// lines counts the lines of a file and those holding word.
func lines(t *testing.T, path, word string) (n, with int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		if bytes.Contains(sc.Bytes(), []byte(word)) {
			with++
		}
	}
	return n, with
}

func TestGenerateWritesEachSandbox(t *testing.T) {
	home := t.TempDir()
	s := Small{Count: 12, Exec: 20, Runtime: 5, Kernel: 5, Width: 4}
	names, err := s.Generate(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 12 || names[0] != "sb0000" || names[11] != "sb0011" {
		t.Fatalf("names %v", names)
	}
	for _, name := range names {
		logs := msbwriter.LogsDir(home, name)
		if n, with := lines(t, filepath.Join(logs, msbwriter.ExecLog), Word); n != 20 || with != 1 {
			t.Errorf("%s: exec.log has %d lines, %d with %s; want 20, 1", name, n, with, Word)
		}
		if _, with := lines(t, filepath.Join(logs, msbwriter.ExecLog), ErrorWord); with != 4 {
			t.Errorf("%s: %d exec.log lines with %s, want 4 (every fifth)", name, with, ErrorWord)
		}
		for _, f := range []string{msbwriter.RuntimeLog, msbwriter.KernelLog} {
			if n, _ := lines(t, filepath.Join(logs, f), ""); n != 5 {
				t.Errorf("%s: %s has %d lines, want 5", name, f, n)
			}
		}
	}
}

func TestEnsureKeepsAndReplacesACorpus(t *testing.T) {
	keep := t.TempDir()
	s := Small{Count: 3, Exec: 4, Runtime: 1, Kernel: 1, Width: 2}
	home, _, err := s.Ensure(keep)
	if err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(home, "sandboxes", "stray")
	if err := os.Mkdir(stray, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Ensure(keep); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("the same corpus again was written again (%v)", err)
	}
	s.Exec = 6
	if _, _, err := s.Ensure(keep); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("another corpus kept what the old one held (%v)", err)
	}
	if n, _ := lines(t, filepath.Join(msbwriter.LogsDir(home, "sb00"), msbwriter.ExecLog), ""); n != 6 {
		t.Errorf("exec.log has %d lines after a corpus of 6 was asked for", n)
	}
}

func TestGenerateRefusesBadCorpora(t *testing.T) {
	for _, s := range []Small{
		{Count: 0, Exec: 1, Width: 1}, {Count: 1, Exec: 0, Width: 1}, {Count: -1, Exec: 1, Width: 1},
		{Count: 1, Exec: 1, Runtime: -1, Width: 1}, {Count: 1, Exec: 1, Width: 0}, {Count: 1, Exec: 1, Width: 10},
		{Count: maxSmall + 1, Exec: 1, Width: 7},
	} {
		home := t.TempDir()
		if _, err := s.Generate(home); err == nil {
			t.Errorf("%+v: no error", s)
		}
		if ents, _ := os.ReadDir(home); len(ents) != 0 {
			t.Errorf("%+v: refused, but wrote %d entries", s, len(ents))
		}
	}
}

func TestInMerged(t *testing.T) {
	match := inMerged("/m")
	for line, want := range map[string]bool{
		"/m/sb01/merged:zebracorn in sb01":            true,
		"/m/sb01/merged.jsonl:{zebracorn}":            false,
		"/m/sb01/sessions/1/merged:zebracorn in sb01": false,
		"/m/sb01/stdout:zebracorn":                    false,
		"/other/sb01/merged:zebracorn":                false,
		"/m//merged:x":                                false,
		"Binary file /m/sb01/merged matches":          false,
	} {
		if got := match([]byte(line)); got != want {
			t.Errorf("inMerged(%q) = %v, want %v", line, got, want)
		}
	}
}
