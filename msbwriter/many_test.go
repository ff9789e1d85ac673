package msbwriter

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestGenerateMany(t *testing.T) {
	home := t.TempDir()
	names, err := GenerateMany(home, ManyOptions{Count: 3, Word: "needle"})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 3 || names[2] != "sb-00002" {
		t.Fatalf("names %v", names)
	}
	for _, n := range names {
		for _, f := range []string{ExecLog, RuntimeLog, KernelLog} {
			if fi, err := os.Stat(filepath.Join(LogsDir(home, n), f)); err != nil || fi.Size() == 0 {
				t.Fatalf("%s/%s: %v", n, f, err)
			}
		}
		b, _ := os.ReadFile(filepath.Join(LogsDir(home, n), ExecLog))
		if c := bytes.Count(b, []byte("needle in "+n)); c != 1 || len(b) < 2<<10 {
			t.Fatalf("%s: the word %d times in %d bytes; want once in a few KiB", n, c, len(b))
		}
	}
	if _, err := GenerateMany(home, ManyOptions{Count: -1}); err == nil {
		t.Fatal("a negative count was accepted")
	}
}
