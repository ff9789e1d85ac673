package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestTruncatedRuntimeLog is issue 7 item 2 through a real mount: after
// runtime.log is truncated in place and written again (growing past its old
// size, while system.follow is open), every snapshot file equals what the
// real `logs` command prints, and system.follow goes on with the new file
// from its start.
func TestTruncatedRuntimeLog(t *testing.T) {
	home := t.TempDir()
	err := msbwriter.GenerateCorpus(home, "s", msbwriter.CorpusOptions{TotalBytes: 3 << 20, RotateAt: 1 << 20,
		Seed: 1, Start: msbwriter.DefaultCorpusStart})
	if err != nil {
		t.Fatal(err)
	}
	m := mount(t, home)
	sh(t, 30*time.Second, "cat "+q(m.path("s", "merged.jsonl"))+" >/dev/null")
	follow := startReader(t, "cat", m.path("s", "system.follow"))
	before := strings.Count(sh(t, 30*time.Second, "cat "+q(m.path("s", "system"))), "\n")
	for range before {
		follow.next(t, 10*time.Second)
	}

	var lines strings.Builder
	for i := range 100 {
		fmt.Fprintf(&lines, "2026-05-01T11:00:03Z NEW-%04d\n", i)
	}
	runtimeLog := filepath.Join(msbwriter.LogsDir(home, "s"), "runtime.log")
	old, err := os.Stat(runtimeLog)
	if err != nil {
		t.Fatal(err)
	}
	if int64(lines.Len()) <= old.Size() {
		t.Fatalf("the new runtime.log (%d bytes) must outgrow the old one (%d)", lines.Len(), old.Size())
	}
	if err := os.WriteFile(runtimeLog, []byte(lines.String()), 0o644); err != nil { // O_TRUNC: same inode
		t.Fatal(err)
	}

	logs := func(args string) string {
		return sh(t, 30*time.Second, q(binary)+" logs --home "+q(home)+" "+args+" s")
	}
	want := map[string]string{
		"merged":       logs("--source all -t"),
		"merged.jsonl": logs("--source all --json"),
		"stdout":       logs("--source stdout"),
		"output":       logs("--source output"),
		"system":       logs("--source system -t"),
	}
	if !strings.Contains(want["system"], "system NEW-0099") {
		t.Fatalf("logs does not show the new runtime.log: %.300q", want["system"])
	}
	for name, w := range want {
		p := q(m.path("s", name))
		var got, errOut string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got, errOut, err = shErr(30*time.Second, "cat "+p); err == nil && got == w {
				break
			}
		}
		if err != nil || got != w {
			t.Errorf("%s: %d bytes (%v %s), logs %d", name, len(got), err, errOut, len(w))
		}
	}
	for i := range 100 {
		if l := follow.next(t, 10*time.Second); !strings.HasSuffix(l, fmt.Sprintf(" system NEW-%04d", i)) {
			t.Fatalf("system.follow line %d after the rewrite: %q", i, l)
		}
	}
}
