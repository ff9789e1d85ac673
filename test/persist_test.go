package test

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// TestPersistedIndexThroughMount: a mount saves the index of what it
// stats under its --cache-dir; a remount over the same directory, with the
// saved files intact, flipped or truncated, reads every view as `msb-logfs
// logs` prints it.
func TestPersistedIndexThroughMount(t *testing.T) {
	home := corpusHome(t, "big", 6<<20)
	cacheDir := t.TempDir()
	views := map[string][]string{
		"merged":       {"--source", "all", "--timestamps"},
		"merged.jsonl": {"--source", "all", "--json"},
		"stdout":       {"--source", "stdout"},
	}
	want := map[string][]byte{}
	for file, args := range views {
		want[file] = logsOutput(t, home, "big", args...)
	}
	stop := func(m *mountProc) {
		t.Helper()
		if _, err := m.signal(syscall.SIGINT, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	m := mount(t, home, "--cache-dir", cacheDir)
	if _, err := os.Stat(m.path("big", "merged")); err != nil {
		t.Fatal(err)
	}
	stop(m)
	saved, err := filepath.Glob(filepath.Join(cacheDir, engine.IndexDirName, "*.idx"))
	if err != nil || len(saved) == 0 {
		t.Fatalf("no index saved under %s (%v)", cacheDir, err)
	}
	good := map[string][]byte{}
	for _, p := range saved {
		good[p] = mustRead(t, p)
	}
	for _, damage := range []struct {
		what string
		fn   func([]byte) []byte
	}{
		{"intact", func(b []byte) []byte { return b }},
		{"a flipped byte", func(b []byte) []byte { b = bytes.Clone(b); b[len(b)/3] ^= 0x10; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
	} {
		for p, b := range good {
			if err := os.WriteFile(p, damage.fn(b), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		m := mount(t, home, "--cache-dir", cacheDir)
		for file := range views {
			fi, err := os.Stat(m.path("big", file))
			if err != nil {
				t.Fatal(err)
			}
			if got := mustRead(t, m.path("big", file)); !bytes.Equal(got, want[file]) || fi.Size() != int64(len(got)) {
				t.Fatalf("%s index file: %s: stat %d, %d bytes through the mount, `logs` prints %d", damage.what, file, fi.Size(), len(got), len(want[file]))
			}
		}
		stop(m)
	}
}
