package cursorfs

import (
	"strconv"
	"syscall"
)

// dirKind is what a directory shows.
type dirKind uint8

// The kinds of directories.
const (
	dirRoot     dirKind = iota // the sandboxes
	dirSandbox                 // the files of Files and the sessions directory
	dirSessions                // one directory per session id
	dirSession                 // the files of sessionFiles
)

// dirBehaviour is the behaviour of one kind of directory: what it lists,
// what its names resolve to, and what stat shows of it. Adding a kind of
// directory is adding a kind here and where its parent resolves it.
type dirBehaviour interface {
	list(d *Dir) ([]DirEntry, error)
	lookup(d *Dir, name string) (Child, error)
	stat(d *Dir) (DirAttr, error)
}

var dirKinds = [...]dirBehaviour{
	dirRoot:     rootDir{},
	dirSandbox:  sandboxDir{},
	dirSessions: sessionsDir{},
	dirSession:  sessionDir{},
}

// rootDir lists the sandboxes that exist now.
type rootDir struct{}

// list records what it saw as the root's time and link count (rootattr.go).
func (rootDir) list(d *Dir) ([]DirEntry, error) {
	at := d.fs.listings.now()
	names, err := d.fs.home.List()
	if err != nil {
		return nil, err
	}
	ents := make([]DirEntry, len(names))
	for i, n := range names {
		ents[i] = DirEntry{Name: n, Ino: d.child(dirSandbox, n, 0).Ino(), Dir: true}
	}
	d.fs.root.record(at, d.fs.listings.observe(d.key(), sumNames(ents)), len(ents))
	return ents, nil
}

// lookup resolves any name that could be a sandbox's: whether it exists
// is for the sandbox directory's stat to say, by stat alone.
func (rootDir) lookup(d *Dir, name string) (Child, error) {
	if !validSandboxName(name) {
		return nil, syscall.ENOENT
	}
	return d.child(dirSandbox, name, 0), nil
}

// stat answers from the root's last listing while it is fresh: it lists
// the sandboxes at most once per rootRelist (rootattr.go).
func (rootDir) stat(d *Dir) (DirAttr, error) {
	mt, subdirs, err := d.fs.rootAttr(d)
	if err != nil {
		return DirAttr{}, err
	}
	p, err := d.fs.rootPerm()
	if err != nil {
		return DirAttr{}, err
	}
	return DirAttr{ModTime: mt, ChangeTime: mt, Subdirs: subdirs, Perm: p}, nil
}

// sandboxDir lists the files of Files that a sandbox shows (by stat
// alone: no log file is opened) and its sessions directory.
type sandboxDir struct{}

// list returns boot-error.json only when the sandbox has one, the files
// found by name only with ListAll, and the sessions directory last.
func (sandboxDir) list(d *Dir) ([]DirEntry, error) {
	bootError, err := d.fs.home.StatSandbox(d.sandbox)
	if err != nil {
		return nil, err
	}
	var ents []DirEntry
	for i, file := range Files {
		if (!file.Listed && !d.fs.listAll) || (file.Kind == KindBootError && !bootError) {
			continue
		}
		ents = append(ents, DirEntry{Name: file.Name, Ino: d.file(i).Ino()})
	}
	sessions := d.child(dirSessions, d.sandbox, 0)
	return append(ents, DirEntry{Name: sessionsName, Ino: sessions.Ino(), Dir: true}), nil
}

func (sandboxDir) lookup(d *Dir, name string) (Child, error) {
	if name == sessionsName {
		return d.child(dirSessions, d.sandbox, 0), nil
	}
	i := lookupFile(name)
	if i < 0 {
		return nil, syscall.ENOENT
	}
	return d.file(i), nil
}

func (sandboxDir) stat(d *Dir) (DirAttr, error) {
	ents, err := d.List()
	if err != nil {
		return DirAttr{}, err
	}
	p, err := d.fs.sandboxPerm(d.sandbox)
	if err != nil {
		return DirAttr{}, err
	}
	mt := d.fs.listings.observe(d.key(), sumNames(ents))
	return DirAttr{ModTime: mt, ChangeTime: mt, Subdirs: 1, Perm: p, Valid: dirValid}, nil
}

// sessionsDir lists one directory per session id of the sandbox's exec
// chain, in the order of the ids (ls -U, ls -v), from its index.
type sessionsDir struct{}

func (sessionsDir) list(d *Dir) ([]DirEntry, error) {
	list, err := d.fs.sessions(d.sandbox)
	if err != nil {
		return nil, err
	}
	ents := make([]DirEntry, len(list))
	for i, si := range list {
		ents[i] = DirEntry{Name: strconv.FormatUint(si.ID, 10), Ino: d.child(dirSession, d.sandbox, si.ID).Ino(), Dir: true}
	}
	return ents, nil
}

// lookup resolves a session id in canonical decimal; whether the sandbox
// has that session is for the session directory's stat to say.
func (sessionsDir) lookup(d *Dir, name string) (Child, error) {
	id, ok := parseSessionName(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	return d.child(dirSession, d.sandbox, id), nil
}

func (sessionsDir) stat(d *Dir) (DirAttr, error) {
	ents, err := d.List()
	if err != nil {
		return DirAttr{}, err
	}
	p, err := d.fs.sessionsPerm(d.sandbox)
	if err != nil {
		return DirAttr{}, err
	}
	mt := d.fs.listings.observe(d.key(), sumNames(ents))
	return DirAttr{ModTime: mt, ChangeTime: d.fs.listings.start, Subdirs: len(ents), Perm: p, Valid: dirValid}, nil
}

// sessionDir lists the files of sessionFiles; its time is the session's
// last entry's.
type sessionDir struct{}

func (sessionDir) list(d *Dir) ([]DirEntry, error) {
	if _, err := d.fs.sessionSummary(d.sandbox, d.session); err != nil {
		return nil, err
	}
	var ents []DirEntry
	for i, file := range sessionFiles {
		if file.Listed || d.fs.listAll {
			ents = append(ents, DirEntry{Name: file.Name, Ino: d.sessionFile(i).Ino()})
		}
	}
	return ents, nil
}

func (sessionDir) lookup(d *Dir, name string) (Child, error) {
	for i, file := range sessionFiles {
		if file.Name == name {
			return d.sessionFile(i), nil
		}
	}
	return nil, syscall.ENOENT
}

func (sessionDir) stat(d *Dir) (DirAttr, error) {
	si, err := d.fs.sessionSummary(d.sandbox, d.session)
	if err != nil {
		return DirAttr{}, err
	}
	p, err := d.fs.sessionsPerm(d.sandbox)
	if err != nil {
		return DirAttr{}, err
	}
	return DirAttr{ModTime: goTime(si.Last), ChangeTime: d.fs.listings.start, Perm: p, Valid: dirValid}, nil
}

// child returns the directory of kind k for sandbox (and session).
func (d *Dir) child(k dirKind, sandbox string, session uint64) *Dir {
	return &Dir{fs: d.fs, kind: k, sandbox: sandbox, session: session}
}

// file returns the node of file i of Files in d's sandbox.
func (d *Dir) file(i int) *Node {
	return &Node{fs: d.fs, sandbox: d.sandbox, index: int32(i)}
}

// sessionFile returns the node of file i of sessionFiles in d's session.
func (d *Dir) sessionFile(i int) *Node {
	id := d.session
	return &Node{fs: d.fs, sandbox: d.sandbox, index: int32(i), session: &id}
}

// key names the directory in the listing records.
func (d *Dir) key() listingKey { return listingKey{kind: d.kind, sandbox: d.sandbox} }

// validSandboxName reports whether name could be a sandbox's: one path
// element.
func validSandboxName(name string) bool {
	if name == "" || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return false
		}
	}
	return true
}
