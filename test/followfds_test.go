package test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// rotatedBox writes sandbox name of home with all seven log files:
// exec.log, four rotated files, runtime.log and kernel.log.
func rotatedBox(t *testing.T, home, name string) {
	t.Helper()
	w, err := msbwriter.Create(home, name, msbwriter.Options{RotateAt: 512})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		c := msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: fmt.Appendf(nil, "%s line %04d %s\n", name, i, strings.Repeat("x", 40)), ID: 1, HasID: true}
		if err := w.Exec(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Runtime("2026-05-01T10:00:00Z INFO runtime: up"); err != nil {
		t.Fatal(err)
	}
	if err := w.Kernel("[    0.100000] Linux version"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFollowerDescriptors checks docs/filesystem.md's descriptor rule:
// followers of one sandbox share one descriptor per log file, and a mount
// limited to 512 + 7 per followed sandbox keeps a follower open on each of
// them, every log file rotated four times, while grep -r walks the whole
// tree without an error.
func TestFollowerDescriptors(t *testing.T) {
	const followed = 150
	home := t.TempDir()
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: 500, Word: "zebracorn"})
	if err != nil {
		t.Fatal(err)
	}
	var boxes []string
	for i := range followed {
		name := fmt.Sprintf("rot%03d", i)
		rotatedBox(t, home, name)
		boxes = append(boxes, name)
	}
	limit := 512 + 7*followed
	m := mountVia(t, []string{"prlimit", fmt.Sprintf("--nofile=%d:%d", limit, limit)}, plainBinary(t), home, filepath.Join(t.TempDir(), "mnt"))
	pid := m.cmd.Process.Pid
	logs := func() int { return len(fdsUnder(t, pid, filepath.Join(home, "sandboxes"))) }

	// Ten followers of one sandbox hold its seven files once.
	var open []*os.File
	defer func() {
		for _, f := range open {
			f.Close()
		}
	}()
	for range 10 {
		f, err := os.Open(m.path(boxes[0], "merged.follow"))
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, f)
	}
	if n := len(fdsUnder(t, pid, filepath.Join(home, "sandboxes", boxes[0]))); n != 7 {
		t.Errorf("ten followers of one sandbox: the mount holds %d of its log files, want its 7", n)
	}

	for _, name := range boxes[1:] {
		f, err := os.Open(m.path(name, "merged.follow"))
		if err != nil {
			t.Fatalf("follower %d of %d under a limit of %d: %v", len(open)-9, followed, limit, err)
		}
		open = append(open, f)
	}
	t.Logf("%d followed sandboxes: the mount holds %d descriptors, %d of them log files (limit %d)", followed, fdCount(t, pid), logs(), limit)

	out, errOut, err := shErr(120*time.Second, "grep -rl zebracorn "+q(m.dir))
	if err != nil {
		t.Fatalf("grep -r beside %d followers: %v\nstderr: %s", followed, err, firstLines(errOut, 5))
	}
	got := lines([]byte(out))
	var want []string
	for _, n := range names {
		for _, f := range []string{"merged", "merged.jsonl", "stdout"} {
			want = append(want, m.path(n, f), m.path(n, "sessions", "1", f))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("grep -rl beside %d followers found %d files, want %d", followed, len(got), len(want))
	}
	t.Logf("after grep -r: %d descriptors, %d of them log files", fdCount(t, pid), logs())
}
