package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lifecycleLine is a log line of the mount's lifecycle.
var lifecycleLine = regexp.MustCompile(`level=INFO msg=(mounted|unmounting|unmounted|"mountpoint created"|"mountpoint removed"|"sandbox skipped") `)

// TestMountLogQuiet: a cat of a 47 MB view through the mount writes no
// line at the default level but the lifecycle ones (go-fuse's per-read
// "trySplice" fallback notes are debug detail); with --debug the mount
// writes debug lines, and any such note is among them.
func TestMountLogQuiet(t *testing.T) {
	home := corpusHome(t, "box", 47<<20)
	for _, debug := range []bool{false, true} {
		var flags []string
		if debug {
			flags = []string{"--debug"}
		}
		m := mount(t, home, flags...)
		out := sh(t, 2*time.Minute, "cat "+q(m.path("box", "merged"))+" | wc -c")
		if n := strings.TrimSpace(out); n == "0" {
			t.Fatalf("cat merged read nothing")
		}
		if _, err := m.signal(syscall.SIGTERM, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		debugLines := 0
		for _, l := range lines([]byte(m.stderr.String())) {
			if strings.Contains(l, "level=DEBUG") {
				debugLines++
			}
			if debug {
				if strings.Contains(l, "trySplice") && !strings.Contains(l, "level=DEBUG") {
					t.Errorf("--debug: go-fuse's line not at debug level: %q", l)
				}
				continue
			}
			if !lifecycleLine.MatchString(l) {
				t.Errorf("default level: unexpected log line after a cat of 47 MB: %q", l)
			}
		}
		if debug && debugLines == 0 {
			t.Errorf("--debug: no line at level DEBUG after a cat of 47 MB")
		}
	}
}

// TestSandboxSkippedSaidOnce: a directory of sandboxes/ that is left out
// of the tree (a symbolic link, or no logs directory) is named in one
// info line, with why, however often the tree is listed.
func TestSandboxSkippedSaidOnce(t *testing.T) {
	home := corpusHome(t, "box", 32<<10)
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(home, "sandboxes", "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(home, "sandboxes", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := mount(t, home)
	for range 3 {
		if got := sh(t, 10*time.Second, "ls "+q(m.dir)); got != "box\n" {
			t.Fatalf("ls: %q, want box alone", got)
		}
	}
	if _, err := m.signal(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	log := m.stderr.String()
	for name, why := range map[string]string{"linked": `"a symbolic link, which is not followed"`, "empty": `"no logs directory (or a symbolic link to one)"`} {
		want := `level=INFO msg="sandbox skipped" sandbox=` + name + " why=" + why
		if n := strings.Count(log, want); n != 1 {
			t.Errorf("%d lines %q, want 1:\n%s", n, want, log)
		}
	}
}
