package test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/microsandbox/msb-logfs/engine"
)

// TestCacheDirDeletedUnderMount: deleting the render cache's directory
// under a running mount (rm -rf of the cache dir) does not leave the
// mount writing a deleted file that holds its disk space until exit: the
// next read that renders starts a new file, and every read still gives
// the right bytes.
func TestCacheDirDeletedUnderMount(t *testing.T) {
	home := corpusHome(t, "box", 8<<20)
	cache := t.TempDir()
	m := mount(t, home, "--cache-dir", cache)
	pid := m.cmd.Process.Pid
	if got, want := mustRead(t, m.path("box", "merged")), render(t, home, "box", engine.ViewMerged); !bytes.Equal(got, want) {
		t.Fatalf("merged: %d bytes, want %d", len(got), len(want))
	}
	own := filepath.Join(cache, engine.CacheDirPrefix+strconv.Itoa(pid))
	if ents, err := os.ReadDir(own); err != nil || len(ents) == 0 {
		t.Fatalf("no render cache file in %s after a read: %v", own, err)
	}
	if err := os.RemoveAll(own); err != nil {
		t.Fatal(err)
	}
	if n := deletedCacheFiles(t, pid); n == 0 {
		t.Fatalf("the mount does not hold the deleted cache file (the test would prove nothing)")
	}
	for _, v := range []struct {
		name string
		view engine.View
	}{{"stdout", engine.ViewStdout}, {"merged.jsonl", engine.ViewMergedJSON}} {
		if got, want := mustRead(t, m.path("box", v.name)), render(t, home, "box", v.view); !bytes.Equal(got, want) {
			t.Errorf("%s after the cache dir went: %d bytes, want %d", v.name, len(got), len(want))
		}
	}
	if n := deletedCacheFiles(t, pid); n != 0 {
		t.Errorf("the mount still holds %d deleted cache files", n)
	}
	if ents, err := os.ReadDir(own); err != nil || len(ents) != 1 {
		t.Errorf("want one new cache file in %s: %v, %v", own, ents, err)
	}
	if !strings.Contains(m.stderr.String(), "render cache file deleted: starting a new one") {
		t.Errorf("no warning in the log:\n%s", m.stderr)
	}
}

// deletedCacheFiles counts the deleted render cache files process pid
// holds open.
func deletedCacheFiles(t *testing.T, pid int) int {
	t.Helper()
	fds := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(fds)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(fds, e.Name()))
		if err == nil && strings.Contains(target, "/chunks.") && strings.HasSuffix(target, " (deleted)") {
			n++
		}
	}
	return n
}
