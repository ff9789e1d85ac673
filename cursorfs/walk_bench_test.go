package cursorfs

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// The walk benchmarks measure what one small sandbox costs the mount's
// file tree when `find` or `du -s` walks a host: each op makes, for the
// next sandbox of N, the calls the FUSE adapter makes for it (its
// directory's stat and listing, those of its sessions directory and of
// each session's, and for du a stat of every file listed). "first" runs
// in a home that never saw the sandbox (a fresh mount's walk); "again"
// walks a home that walked every sandbox before, long enough ago that
// each was let go and parked.
//
//	go test -run '^$' -bench 'Walk' -benchmem ./cursorfs/

// walkSandboxCount is how many sandboxes a walk benchmark's home holds:
// more than the engine keeps state for, so that each is let go before it
// is walked again.
const walkSandboxCount = 400

// walkHome makes the home the walk benchmarks share: sandboxes of 210
// exec, 21 runtime and 11 kernel lines, as the scaling corpus's.
func walkHome(b *testing.B) (string, []string) {
	b.Helper()
	dir := b.TempDir()
	names, err := msbwriter.GenerateMany(dir, msbwriter.ManyOptions{Count: walkSandboxCount, Lines: 210, Word: "needle"})
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(engine.RacyMargin) // a host's idle sandboxes were written before: their stamps vouch for them
	return dir, names
}

// walkOps are what find and du do in one sandbox's tree.
var walkOps = []struct {
	name  string
	files bool // stat every file listed (du)
}{{"find", false}, {"du", true}}

func BenchmarkWalkSandbox(b *testing.B) {
	dir, names := walkHome(b)
	for _, op := range walkOps {
		b.Run(op.name+"/first", func(b *testing.B) {
			var f *FS
			var home *engine.Home
			defer func() { closeHome(b, home) }()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%len(names) == 0 {
					b.StopTimer()
					closeHome(b, home)
					home, f = openWalkHome(b, dir)
					b.StartTimer()
				}
				walkSandbox(b, f, names[i%len(names)], op.files)
			}
		})
		b.Run(op.name+"/again", func(b *testing.B) {
			home, f := openWalkHome(b, dir)
			defer closeHome(b, home)
			for _, name := range names {
				walkSandbox(b, f, name, op.files)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				walkSandbox(b, f, names[i%len(names)], op.files)
			}
		})
	}
}

func openWalkHome(b *testing.B, dir string) (*engine.Home, *FS) {
	b.Helper()
	home, err := engine.OpenHome(dir)
	if err != nil {
		b.Fatal(err)
	}
	return home, New(home)
}

func closeHome(b *testing.B, home *engine.Home) {
	b.Helper()
	if home != nil {
		if err := home.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// walkSandbox makes the calls a walk's requests make in sandbox name:
// a lookup (stat) and listing of each directory, the sessions' stats from
// their listing, and with files a lookup (stat) of each file listed.
func walkSandbox(b *testing.B, f *FS, name string, files bool) {
	c, err := f.Root().Lookup(name)
	if err != nil {
		b.Fatal(err)
	}
	walkDir(b, c.(*Dir), files, true)
}

// walkDir stats d (unless its listing stated it) and lists it, then walks
// what it lists.
func walkDir(b *testing.B, d *Dir, files, stat bool) {
	if stat {
		if _, err := d.Stat(); err != nil {
			b.Fatal(err)
		}
	}
	ents, err := d.List()
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ents {
		if !e.Dir && !files {
			continue
		}
		c, err := d.Lookup(e.Name)
		if err != nil {
			b.Fatal(err)
		}
		switch c := c.(type) {
		case *Dir:
			cheap := d.StatsCheap(true)
			if cheap {
				if _, err := c.Stat(); err != nil { // the listing's entry
					b.Fatal(err)
				}
			}
			walkDir(b, c, files, !cheap)
		case *Node:
			a, err := c.Stat()
			if err != nil {
				b.Fatal(err)
			}
			if a.Fixed {
				c.Pin(a)
			}
		default:
			b.Fatal(fmt.Errorf("%s: %w", e.Name, syscall.EINVAL))
		}
	}
}
