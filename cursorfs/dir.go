package cursorfs

import (
	"fmt"
	"time"
)

// Dir is one directory of the mount: the root, a sandbox's directory, its
// sessions directory or one session's directory. Like a Node it holds no
// engine object: what it lists and shows is read again at every call, so
// a sandbox removed and created again is shown afresh. Each kind of
// directory is one entry of the dirKinds table (dirkinds.go).
type Dir struct {
	fs      *FS
	kind    dirKind
	sandbox string // all but the root
	session uint64 // a session's directory
}

// Child is what a directory's Lookup finds: a *Dir or a *Node.
type Child interface {
	// Ino returns the child's inode number.
	Ino() uint64
}

var (
	_ Child = (*Dir)(nil)
	_ Child = (*Node)(nil)
)

// DirEntry is a name a directory lists.
type DirEntry struct {
	Name string
	Ino  uint64
	Dir  bool // a directory, else a regular file
}

// DirAttr is what stat shows of a directory.
type DirAttr struct {
	// ModTime moves when the listing changes; a session's directory has
	// the time of the session's last entry.
	ModTime time.Time
	// ChangeTime is ModTime, but for the directories of sessions, whose
	// ctime stays put while the sandbox is written: GNU tar reports a
	// directory whose ctime moved while it read it as "changed as we read
	// it" (and exits 1). Theirs is the mount's start.
	ChangeTime time.Time
	Subdirs    int // directories it lists: its link count is 2 more
	Perm       Perm
	// Valid is how long the kernel may keep the directory's entry and
	// attributes.
	Valid time.Duration
}

// dirValid is how long the kernel may keep a directory's entry and
// attributes, but the root's: `ls -l` of the root then costs one LOOKUP
// per sandbox instead of a LOOKUP and a GETATTR. A removed sandbox still
// disappears within a second (docs/filesystem.md), a new one appears at
// once (no negative caching), and a directory's times, which change only
// with its listing, show at most this late.
const dirValid = 500 * time.Millisecond

// Root returns the mount's top directory.
func (f *FS) Root() *Dir { return &Dir{fs: f, kind: dirRoot} }

// Ino returns the directory's inode number: 1 for the root.
func (d *Dir) Ino() uint64 {
	if d.kind == dirRoot {
		return rootIno
	}
	return inoOf(inoTag(d.kind), d.sandbox, d.session, "")
}

// List returns what the directory lists now.
func (d *Dir) List() ([]DirEntry, error) {
	ents, err := dirKinds[d.kind].list(d)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d, err)
	}
	return ents, nil
}

// Lookup resolves name in the directory, listed or not. It fails with
// ENOENT for a name that no such directory holds; whether the child
// exists now is for its Stat to say.
func (d *Dir) Lookup(name string) (Child, error) {
	c, err := dirKinds[d.kind].lookup(d, name)
	if err != nil {
		return nil, fmt.Errorf("look up %q in %s: %w", name, d, err)
	}
	return c, nil
}

// Stat returns what stat shows of the directory now, or an error wrapping
// ENOENT when it is gone.
func (d *Dir) Stat() (DirAttr, error) {
	a, err := dirKinds[d.kind].stat(d)
	if err != nil {
		return DirAttr{}, fmt.Errorf("stat %s: %w", d, err)
	}
	return a, nil
}

// StatsCheap reports whether a stat of each directory (dirs) or each file
// it lists costs little now.
//   - Directories: a sessions directory's listing indexed the sandbox,
//     which answers each session's stat; a sandbox's sessions directory's
//     stat lists the sessions, which costs little only while the sandbox's
//     index is at hand (parked, or held: engine.Sandbox.SessionsReady),
//     else it indexes the sandbox's logs (a sandbox of 200 MiB takes a
//     quarter of a second). The root's would stat every sandbox.
//   - Files: a sandbox's while each of its views' stats is at hand
//     (engine.Sandbox.StatsReady), a session's while the sandbox's
//     sessions are (the index of its full merge answers them). Other
//     directories list no files.
func (d *Dir) StatsCheap(dirs bool) bool {
	switch {
	case dirs && d.kind == dirSessions:
		return true
	case dirs && d.kind == dirSandbox, !dirs && d.kind == dirSession:
		return d.fs.sessionsReady(d.sandbox)
	case !dirs && d.kind == dirSandbox:
		sb, err := d.fs.home.Sandbox(d.sandbox)
		return err == nil && sb.StatsReady()
	}
	return false
}

// String returns the directory's path in the mount.
func (d *Dir) String() string {
	switch d.kind {
	case dirRoot:
		return "/"
	case dirSandbox:
		return "/" + d.sandbox
	case dirSessions:
		return "/" + d.sandbox + "/" + sessionsName
	}
	return fmt.Sprintf("/%s/%s/%d", d.sandbox, sessionsName, d.session)
}
