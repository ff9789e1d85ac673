package test

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lifecycleLine is a log line of the mount's lifecycle.
var lifecycleLine = regexp.MustCompile(`level=INFO msg=(mounted|unmounting|unmounted|"mountpoint created"|"mountpoint removed") `)

// TestMountLogQuiet: a cat of a 47 MB view through the mount writes no
// line at the default level but the lifecycle ones (go-fuse's per-read
// "trySplice" fallback notes are debug detail); with --debug any such note
// is at level DEBUG.
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
		for _, l := range lines([]byte(m.stderr.String())) {
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
	}
}
