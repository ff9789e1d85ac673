package cursorfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/microsandbox/msb-logfs/engine"
)

// Perm is the owner, group and permission bits that a file or directory of
// the mount shows when other users may read it (--allow-other, with the
// kernel checking them: default_permissions). They are derived from the
// disk so that a user passes the kernel's check only if that user could
// read, on disk, every file the view is made from, and reach it: search
// (x) on every directory from / down to logs/.
type Perm struct {
	UID, GID uint32
	Mode     uint32 // permission bits, within 0o777
}

// The bits one class of users needs on an object.
const (
	needRead   = 4
	needSearch = 1
)

// object is one file or directory on disk that a view depends on.
type object struct {
	uid, gid uint32
	perm     uint32 // the object's permission bits
	need     uint32 // what a reader needs on it: needRead, needSearch or both
	regular  bool   // a regular file (the engine reads no other kind)
}

// The three classes of users of a file, by the shift of their bits.
const (
	ownerShift = 6
	groupShift = 3
	otherShift = 0
)

var classes = [3]uint{ownerShift, groupShift, otherShift}

// granted returns, for each class of a file owned by uid:gid (owner,
// group, other), whether every user of that class other than root meets
// every need on disk. Root reads everything on disk and on the mount alike.
func granted(objs []object, uid, gid uint32) [3]bool {
	var ok [3]bool
	for i, class := range classes {
		ok[i] = true
		for _, o := range objs {
			if surelyGranted(o, class, uid, gid)&o.need != o.need {
				ok[i] = false
				break
			}
		}
	}
	return ok
}

// surelyGranted returns the bits that every user of class (of a file owned
// by uid:gid) surely has on o: the AND of the bits of every class of o such
// a user may be in. Group membership of a user is not known here, so a
// user may be in o's group unless the class rules it out.
func surelyGranted(o object, class uint, uid, gid uint32) uint32 {
	var onObject []uint
	switch {
	case class == ownerShift && o.uid == uid:
		onObject = []uint{ownerShift}
	case class == ownerShift:
		onObject = []uint{groupShift, otherShift}
	default:
		if o.uid != uid { // the user is not uid, but may be o's owner
			onObject = append(onObject, ownerShift)
		}
		switch {
		case o.gid != gid:
			onObject = append(onObject, groupShift, otherShift)
		case class == groupShift:
			onObject = append(onObject, groupShift)
		default: // not in gid, which is o's group
			onObject = append(onObject, otherShift)
		}
	}
	bits := uint32(7)
	for _, s := range onObject {
		bits &= o.perm >> s & 7
	}
	return bits
}

// perm builds the Perm of a file or directory that needs objs: owned by the
// common owner (and group) of the objects that must be read, else root.
// Each class that is granted gets the bits of want.
func perm(objs []object, want uint32) Perm {
	uid, gid := commonOwner(objs)
	p := Perm{UID: uid, GID: gid}
	for i, ok := range granted(objs, uid, gid) {
		if ok {
			p.Mode |= want << classes[i]
		}
	}
	return p
}

// commonOwner returns the owner and group shared by the objects that must
// be read (else by the last object), each 0 (root) where they differ.
func commonOwner(objs []object) (uid, gid uint32) {
	var read []object
	for _, o := range objs {
		if o.need&needRead != 0 {
			read = append(read, o)
		}
	}
	if len(read) == 0 && len(objs) > 0 {
		read = objs[len(objs)-1:]
	}
	for i, o := range read {
		if i == 0 {
			uid, gid = o.uid, o.gid
			continue
		}
		if o.uid != uid {
			uid = 0
		}
		if o.gid != gid {
			gid = 0
		}
	}
	return uid, gid
}

// lstatObject describes path (not following a final symbolic link).
func lstatObject(path string, need uint32) (object, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return object{}, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	return object{uid: st.Uid, gid: st.Gid, perm: st.Mode & 0o777, need: need,
		regular: st.Mode&syscall.S_IFMT == syscall.S_IFREG}, nil
}

// pathObjects returns every directory from / down to dir, each needing
// search, the last one needing last.
func pathObjects(dir string, last uint32) ([]object, error) {
	dir = filepath.Clean(dir)
	paths := []string{"/"}
	for i, c := range dir {
		if c == '/' && i > 0 {
			paths = append(paths, dir[:i])
		}
	}
	if dir != "/" {
		paths = append(paths, dir)
	}
	objs := make([]object, 0, len(paths))
	for i, p := range paths {
		need := uint32(needSearch)
		if i == len(paths)-1 {
			need = last
		}
		o, err := lstatObject(p, need)
		if err != nil {
			return nil, fmt.Errorf("permissions: %w", err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// sandboxesDir returns <home>/sandboxes with every symbolic link on the way
// resolved, as the engine reaches it: the directories that count are the
// real ones. Below it the engine follows no link.
func sandboxesDir(home *engine.Home) (string, error) {
	dir, err := filepath.EvalSymlinks(home.SandboxesDir())
	if err != nil {
		return "", fmt.Errorf("permissions: %w", err)
	}
	return dir, nil
}

// rootPermAt returns the Perm of the mount's root: what <home>/sandboxes
// grants (read to list, search to enter), reached from /.
func rootPermAt(home *engine.Home) (Perm, error) {
	return dirPermAt(sandboxesDir(home))
}

// sandboxPermAt returns the Perm of a sandbox directory: what its logs
// directory grants, reached from /.
func sandboxPermAt(home *engine.Home, sandbox string) (Perm, error) {
	return dirPermAt(logsDir(home, sandbox))
}

// dirPermAt returns the Perm of a directory of the mount that shows dir,
// unless the path could not be found (err).
func dirPermAt(dir string, err error) (Perm, error) {
	if err != nil {
		return Perm{}, err
	}
	objs, err := pathObjects(dir, needRead|needSearch)
	if err != nil {
		return Perm{}, err
	}
	return dirPerm(objs), nil
}

// dirPerm gives a directory read where its last object can be listed and
// search where it can be entered.
func dirPerm(objs []object) Perm {
	search := make([]object, len(objs))
	copy(search, objs)
	search[len(search)-1].need = needSearch
	p := perm(search, needRead|needSearch)
	list := perm(objs, needRead|needSearch)
	p.Mode = p.Mode&0o111 | list.Mode&0o444
	return p
}

// filePermAt returns the Perm of file f of a sandbox: read for the classes
// that can read every log file the file is made from (those that exist now;
// the engine reads no symbolic link, FIFO or directory in their place, so
// those do not count), and reach them. seek, whose writes only move the
// writer's own position, is writable by whoever may read it.
func filePermAt(home *engine.Home, sandbox string, f File) (Perm, error) {
	dir, err := logsDir(home, sandbox)
	if err != nil {
		return Perm{}, err
	}
	objs, err := pathObjects(dir, needSearch)
	if err != nil {
		return Perm{}, err
	}
	for _, name := range sourceFiles(f) {
		o, err := lstatObject(filepath.Join(dir, name), needRead)
		if os.IsNotExist(err) {
			continue // not part of the view now
		}
		if err != nil {
			return Perm{}, fmt.Errorf("permissions: %w", err)
		}
		if o.regular {
			objs = append(objs, o)
		}
	}
	want := uint32(needRead)
	if kinds[f.Kind].writable() {
		want |= 2
	}
	return perm(objs, want), nil
}

// sourceFiles returns the names of the log files that file f may be made
// from: the exec chain for every view, runtime.log and kernel.log too for
// the views with system entries, all of them for cursor and seek, and
// boot-error.json itself.
func sourceFiles(f File) []string {
	if f.Kind == KindBootError {
		return []string{engine.BootErrorName}
	}
	names := make([]string, 0, engine.ChainLen+2)
	names = append(names, engine.ExecLogName)
	for i := 1; i < engine.ChainLen; i++ {
		names = append(names, fmt.Sprintf("%s.%d", engine.ExecLogName, i))
	}
	if f.Kind == KindSnapshot || f.Kind == KindFollow || f.Kind == KindLive {
		if !f.View.Mask.Has(engine.SourceSystem) {
			return names
		}
	}
	return append(names, engine.RuntimeLogName, engine.KernelLogName)
}

// logsDir returns the real path of the sandbox's logs directory.
func logsDir(home *engine.Home, sandbox string) (string, error) {
	if sandbox == "" || sandbox == "." || sandbox == ".." || strings.ContainsRune(sandbox, '/') {
		return "", fmt.Errorf("permissions: bad sandbox name %q", sandbox)
	}
	dir, err := sandboxesDir(home)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, sandbox, "logs"), nil
}
