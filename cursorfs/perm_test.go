package cursorfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/microsandbox/msb-logfs/engine"
)

const alice, bob, staff, wheel = 1001, 1002, 50, 60

func dirObj(uid, gid, perm uint32) object  { return object{uid, gid, perm, needSearch, false} }
func fileObj(uid, gid, perm uint32) object { return object{uid, gid, perm, needRead, true} }

// TestPermIsSound checks the owner and mode derived from objects on disk,
// including the cases where owners differ and a naive AND of the bits of
// each class would let a user read what the disk refuses them.
func TestPermIsSound(t *testing.T) {
	root755 := dirObj(0, 0, 0o755)
	for _, c := range []struct {
		name string
		objs []object
		want Perm
	}{
		{"world-readable", []object{root755, fileObj(0, 0, 0o644)}, Perm{0, 0, 0o444}},
		{"owner only", []object{root755, fileObj(0, 0, 0o600)}, Perm{0, 0, 0o400}},
		{"a closed directory", []object{dirObj(0, 0, 0o700), fileObj(0, 0, 0o644)}, Perm{0, 0, 0o400}},
		{"one closed file of two", []object{root755, fileObj(0, 0, 0o644), fileObj(0, 0, 0o640)}, Perm{0, 0, 0o440}},
		{"group readable", []object{root755, fileObj(alice, staff, 0o640)}, Perm{alice, staff, 0o440}},
		// alice owns the files, but on the directory she is group or
		// other: she may not be in wheel, so she gets nothing.
		{"owner not reaching", []object{dirObj(0, wheel, 0o750), fileObj(alice, staff, 0o640)}, Perm{alice, staff, 0}},
		// Two owners: the view is root's; staff members other than bob
		// cannot read bob's 0600 file.
		{"two owners", []object{root755, fileObj(alice, staff, 0o640), fileObj(bob, staff, 0o600)}, Perm{0, staff, 0}},
		{"two owners, group readable", []object{root755, fileObj(alice, staff, 0o640), fileObj(bob, staff, 0o640)}, Perm{0, staff, 0o040}},
		// Other users may be in staff, whose bits are nothing here.
		{"group bits below other bits", []object{root755, fileObj(alice, staff, 0o604)}, Perm{alice, staff, 0o404}},
		{"foreign group denies", []object{dirObj(0, staff, 0o705), fileObj(0, 0, 0o644)}, Perm{0, 0, 0o400}},
	} {
		if got := perm(c.objs, needRead); got != c.want {
			t.Errorf("%s: %+v, want %+v (mode %o)", c.name, got, c.want, c.want.Mode)
		}
	}
}

// TestPermNeverGrantsWhatDiskRefuses checks, over every combination of
// owners and modes of one directory and two files, that each user of each
// class the result grants could read both files on disk, for users of
// every kind of membership.
func TestPermNeverGrantsWhatDiskRefuses(t *testing.T) {
	type user struct {
		uid    uint32
		groups []uint32
	}
	users := []user{{alice, []uint32{staff}}, {alice, []uint32{wheel}}, {bob, []uint32{staff}}, {bob, nil},
		{7, []uint32{staff, wheel}}, {7, nil}, {8, []uint32{wheel}}}
	modes := []uint32{0o000, 0o700, 0o750, 0o705, 0o055, 0o644, 0o640, 0o604, 0o044, 0o400}
	owners := [][2]uint32{{alice, staff}, {bob, staff}, {alice, wheel}, {0, wheel}}
	in := func(u user, gid uint32) bool {
		for _, g := range u.groups {
			if g == gid {
				return true
			}
		}
		return false
	}
	bits := func(u user, o object) uint32 { // what the kernel gives u on o
		switch {
		case u.uid == o.uid:
			return o.perm >> 6 & 7
		case in(u, o.gid):
			return o.perm >> 3 & 7
		}
		return o.perm & 7
	}
	checked := 0
	for _, dm := range modes {
		for _, fm := range modes {
			for _, do := range owners {
				for _, fo := range owners {
					objs := []object{dirObj(do[0], do[1], dm), fileObj(fo[0], fo[1], fm), fileObj(alice, staff, 0o640)}
					p := perm(objs, needRead)
					for _, u := range users {
						if bits(u, object{uid: p.UID, gid: p.GID, perm: p.Mode})&needRead == 0 {
							continue
						}
						checked++
						for _, o := range objs {
							if bits(u, o)&o.need != o.need {
								t.Fatalf("%+v granted %o by %+v but refused on %+v", u, p.Mode, p, o)
							}
						}
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no case granted anything")
	}
}

// TestPermFromDisk derives owners and modes from a real home.
func TestPermFromDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("MSB_LOGFS_REQUIRE_FUSE") == "1" { // CI: root, so this runs
			t.Fatal("MSB_LOGFS_REQUIRE_FUSE=1 but not root")
		}
		t.Skip("needs root to give files to other users")
	}
	b := newBox(t, "box", 3, 0)
	openPath(t, b.dir)
	logs := filepath.Join(b.dir, "sandboxes", "box", "logs")
	exec := filepath.Join(logs, engine.ExecLogName)
	must(t, os.Chown(exec, alice, staff))
	must(t, os.Chmod(exec, 0o640))
	must(t, os.Chmod(filepath.Join(logs, engine.RuntimeLogName), 0o600))
	for _, c := range []struct {
		file string
		want Perm
	}{
		{"stdout", Perm{alice, staff, 0o440}},
		{"stdout.follow", Perm{alice, staff, 0o440}},
		{"merged", Perm{0, 0, 0}}, // runtime.log: root's 0600; exec.log: alice's
		{"system", Perm{0, 0, 0}},
		{"cursor", Perm{0, 0, 0}},
		{"seek", Perm{0, 0, 0}},
	} {
		got, err := filePermAt(b.home, "box", Files[lookupFile(c.file)])
		must(t, err)
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.file, got, c.want)
		}
	}
	must(t, os.Chmod(filepath.Join(logs, engine.RuntimeLogName), 0o644))
	must(t, os.Chown(exec, 0, 0))
	must(t, os.Chmod(exec, 0o644))
	// What the engine does not read does not count: a FIFO and a
	// directory named like rotated files, whoever's they are.
	must(t, syscall.Mkfifo(filepath.Join(logs, "exec.log.1"), 0o600))
	must(t, os.Mkdir(filepath.Join(logs, "exec.log.2"), 0o700))
	if got, err := filePermAt(b.home, "box", Files[lookupFile("seek")]); err != nil || got != (Perm{0, 0, 0o666}) {
		t.Errorf("seek of readable files: %+v %v, want 0666", got, err)
	}
	must(t, os.Chmod(logs, 0o711))
	if got, err := sandboxPermAt(b.home, "box"); err != nil || got != (Perm{0, 0, 0o511}) {
		t.Errorf("sandbox directory of a 0711 logs/: %+v %v, want 0511", got, err)
	}
	if got, err := rootPermAt(b.home); err != nil || got != (Perm{0, 0, 0o555}) {
		t.Errorf("root: %+v %v, want 0555", got, err)
	}
	if _, err := filePermAt(b.home, "nosuch", Files[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing sandbox: %v, want not-exist", err)
	}
	if _, err := filePermAt(b.home, "../box", Files[0]); err == nil {
		t.Error("a sandbox name with a slash was taken")
	}
}

// TestPermThroughALinkedHome: a home reached through a symbolic link is
// judged by the directories the link leads to, not by the link's 0777.
func TestPermThroughALinkedHome(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("MSB_LOGFS_REQUIRE_FUSE") == "1" {
			t.Fatal("MSB_LOGFS_REQUIRE_FUSE=1 but not root")
		}
		t.Skip("needs root to give files to other users")
	}
	b := newBox(t, "box", 3, 0)
	openPath(t, b.dir)
	link := filepath.Join(t.TempDir(), "home")
	openPath(t, filepath.Dir(link))
	must(t, os.Symlink(b.dir, link))
	home, err := engine.OpenHome(link)
	must(t, err)
	t.Cleanup(func() { _ = home.Close() })
	stdout := Files[lookupFile("stdout")]
	if got, err := filePermAt(home, "box", stdout); err != nil || got.Mode != 0o444 {
		t.Fatalf("open home through a link: %+v %v, want 0444", got, err)
	}
	must(t, os.Chmod(b.dir, 0o700))
	if got, err := filePermAt(home, "box", stdout); err != nil || got.Mode != 0o400 {
		t.Errorf("closed home through a link: %+v %v, want 0400", got, err)
	}
	if got, err := rootPermAt(home); err != nil || got.Mode != 0o500 {
		t.Errorf("root of a closed home through a link: %+v %v, want 0500", got, err)
	}
}

// openPath makes dir and each of its parents searchable and readable by
// everyone (t.TempDir makes them 0700).
func openPath(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		must(t, os.Chmod(d, 0o755))
	}
}

// BenchmarkFilePerm measures what --allow-other adds to each stat of a
// file: the owner and mode of merged (every log file, every directory from
// /). BenchmarkViewStat, the size and time every stat computes anyway, is
// the reference.
func BenchmarkFilePerm(b *testing.B) {
	box := newBox(b, "box", 100, 0)
	merged := Files[lookupFile("merged")]
	for b.Loop() {
		if _, err := filePermAt(box.home, "box", merged); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkViewStat(b *testing.B) {
	box := newBox(b, "box", 100, 0)
	for b.Loop() {
		if _, err := box.sb.Stat(engine.ViewMerged); err != nil {
			b.Fatal(err)
		}
	}
}
