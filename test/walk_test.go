package test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWalkersFinishWhileWriting runs the tools that walk a whole tree over a
// mount whose sandboxes are writing and rotating: they must all finish
// (the follow files are not listed), tar without "file changed as we read
// it".
func TestWalkersFinishWhileWriting(t *testing.T) {
	home := corpusHome(t, "quiet", 256<<10)
	for _, name := range []string{"busy1", "busy2"} {
		writeLive(t, home, name, 500, 64<<10)
	}
	m := mount(t, home)
	waitFor(t, 2*time.Second, "the busy sandboxes to show", func() bool {
		out, _, err := shErr(time.Second, "ls "+q(m.dir))
		return err == nil && strings.Contains(out, "busy1") && strings.Contains(out, "busy2")
	})
	out := t.TempDir()
	for _, c := range []struct{ name, script string }{
		{"grep -r", fmt.Sprintf("grep -r -c Compiling %s >/dev/null; [ $? -le 1 ]", q(m.dir))},
		{"tar -c", fmt.Sprintf("tar -C %s -cf %s .", q(m.dir), q(filepath.Join(out, "all.tar")))},
		{"rsync -a", fmt.Sprintf("rsync -a %s/ %s/", q(m.dir), q(filepath.Join(out, "rsync")))},
		{"find -exec cat", fmt.Sprintf("find %s -type f -exec cat {} + | wc -c", q(m.dir))},
	} {
		for round := range 3 {
			start := time.Now()
			stdout, stderr, err := shErr(60*time.Second, c.script)
			if err != nil || strings.Contains(stderr, "changed as we read") {
				t.Fatalf("%s (round %d): %v\nstdout: %.300s\nstderr: %.600s", c.name, round, err, stdout, stderr)
			}
			t.Logf("%s round %d: %v", c.name, round, time.Since(start).Round(time.Millisecond))
		}
	}
}
