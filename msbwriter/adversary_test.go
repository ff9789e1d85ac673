package msbwriter

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAdversaryTailsAndRotation: Write rotates exec.log past RotateAt,
// leaves partial last lines with tails and completes them at the next
// Write.
func TestAdversaryTailsAndRotation(t *testing.T) {
	dir := t.TempDir()
	g := NewAdversary(dir, 3)
	if err := g.Write(100<<10, true); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ExecLog, RuntimeLog} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); len(b) == 0 || b[len(b)-1] == '\n' {
			t.Fatalf("%s: no partial last line", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ChainName(2))); err != nil {
		t.Fatalf("no rotation: %v", err)
	}
	if err := g.Write(0, false); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ExecLog))
	if err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("exec.log's partial line was not completed (%v)", err)
	}
}
