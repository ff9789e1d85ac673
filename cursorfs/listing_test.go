package cursorfs

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"testing"
	"time"
)

// TestListingTimeMovesOnlyOnChange: a directory's time is the mount's
// start until its listing changes, then the time of the change; it stays
// there while the listing does not change.
func TestListingTimeMovesOnlyOnChange(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	start := now
	l := newListings(func() time.Time { return now })
	k := listingKey{kind: dirSandbox, sandbox: "box"}
	a, b := sumNames([]DirEntry{{Name: "a"}}), sumNames([]DirEntry{{Name: "a"}, {Name: "b"}})
	now = now.Add(time.Minute)
	if got := l.observe(k, a); !got.Equal(start) {
		t.Fatalf("first observation: %v, want the start %v", got, start)
	}
	now = now.Add(time.Minute)
	if got := l.observe(k, a); !got.Equal(start) {
		t.Fatalf("same listing moved the time: %v", got)
	}
	changed := now
	if got := l.observe(k, b); !got.Equal(changed) {
		t.Fatalf("changed listing: %v, want %v", got, changed)
	}
	now = now.Add(time.Minute)
	if got := l.observe(k, b); !got.Equal(changed) {
		t.Fatalf("same listing after a change: %v, want %v", got, changed)
	}
	if got := l.observe(listingKey{kind: dirSessions, sandbox: "box"}, a); !got.Equal(start) {
		t.Fatalf("another directory of the sandbox: %v, want the start", got)
	}
	if sumNames([]DirEntry{{Name: "a", Dir: true}}) == a || sumNames([]DirEntry{{Name: "ab"}}) == b {
		t.Fatal("listings that differ sum alike")
	}
}

// TestListingsBounded: past maxListings the records are forgotten, and a
// directory seen again starts at the time of forgetting, never before a
// time it showed.
func TestListingsBounded(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	l := newListings(func() time.Time { return now })
	first := listingKey{kind: dirSandbox, sandbox: "first"}
	now = now.Add(time.Minute)
	l.observe(first, 1)
	shown := l.observe(first, 2)
	for i := range maxListings {
		l.observe(listingKey{kind: dirSandbox, sandbox: fmt.Sprint(i)}, 1)
	}
	if l.held() > maxListings {
		t.Fatalf("%d listings held, bound %d", l.held(), maxListings)
	}
	now = now.Add(time.Minute)
	if got := l.observe(first, 2); got.Before(shown) {
		t.Fatalf("forgotten directory: time %v, before the %v it showed", got, shown)
	}
}

// TestInos: the inode numbers of the files and directories of many
// sandboxes and sessions are distinct, stable, and in [2, 2^63), apart
// from the root's.
func TestInos(t *testing.T) {
	f := &FS{}
	seen := map[uint64]string{rootIno: "/"}
	add := func(c Child, what string) {
		ino := c.Ino()
		if other, dup := seen[ino]; dup || ino < 2 || ino >= 1<<63 || c.Ino() != ino {
			t.Fatalf("%s: inode %d (shared with %q)", what, ino, other)
		}
		seen[ino] = what
	}
	root := f.Root()
	for _, sb := range []string{"x", "y", "x0", "sessions"} {
		box := root.child(dirSandbox, sb, 0)
		add(box, sb)
		add(root.child(dirSessions, sb, 0), sb+"/sessions")
		for i, file := range Files {
			add(box.file(i), sb+"/"+file.Name)
		}
		for id := range uint64(2000) {
			s := root.child(dirSession, sb, id)
			add(s, fmt.Sprintf("%s/sessions/%d", sb, id))
			for i, file := range sessionFiles {
				add(s.sessionFile(i), fmt.Sprintf("%s/sessions/%d/%s", sb, id, file.Name))
			}
		}
	}
}

// TestHashesAreFNV: the inode numbers and listing sums, hashed in place,
// are hash/fnv's 64-bit FNV-1a of what they describe, as they were when
// made with it: numbers stay the same across versions of the mount.
func TestHashesAreFNV(t *testing.T) {
	refIno := func(tag byte, sandbox string, session uint64, name string) uint64 {
		h := fnv.New64a()
		h.Write([]byte{tag})
		h.Write([]byte(sandbox))
		h.Write(binary.LittleEndian.AppendUint64([]byte{0}, session))
		h.Write([]byte(name))
		return 2 + h.Sum64()%(1<<63-2)
	}
	for _, c := range []struct {
		tag     byte
		sandbox string
		session uint64
		name    string
	}{
		{fileTag, "sb-00001", 0, "merged"},
		{fileTag + 3, "a b\xff", 1<<64 - 1, "merged.jsonl\x00key"},
		{inoTag(dirSession), "x", 7, ""},
		{0, "", 0, ""},
	} {
		if got, want := inoOf(c.tag, c.sandbox, c.session, c.name), refIno(c.tag, c.sandbox, c.session, c.name); got != want {
			t.Errorf("inoOf(%#x, %q, %d, %q) = %d, want %d", c.tag, c.sandbox, c.session, c.name, got, want)
		}
	}
	ents := []DirEntry{{Name: "merged"}, {Name: "sessions", Dir: true}, {Name: ""}, {Name: "\x00\x01", Dir: true}}
	h := fnv.New64a()
	for _, e := range ents {
		h.Write([]byte(e.Name))
		if e.Dir {
			h.Write([]byte{0, 1})
		} else {
			h.Write([]byte{0, 0})
		}
	}
	if got, want := sumNames(ents), h.Sum64(); got != want {
		t.Errorf("sumNames = %d, want %d", got, want)
	}
	var sink uint64
	if allocs := testing.AllocsPerRun(100, func() { sink += inoOf(fileTag, "sb-00001", 7, "merged") + sumNames(ents) }); allocs != 0 {
		t.Errorf("inoOf and sumNames: %v allocations, want none", allocs)
	}
	_ = sink
}
