// Package fs is the FUSE face of msb-logfs: a go-fuse v2 node tree whose
// root lists the sandboxes of a home and whose sandbox directories hold the
// files of package cursorfs. It is a thin adapter with no knowledge of
// kinds of file: a file is a cursorfs.Node (Stat, Open) and an open file a
// cursorfs.Handle (Read, Write, Stat, Close, and its open flags as data).
// What stays here is what only FUSE needs: inode numbers, the O_NONBLOCK
// of a READ and whether a GETATTR named its handle (raw.go), and finding
// the caller's handle for an fstat that names none (file.go).
//
// Attribute and entry timeouts are zero, so the kernel asks again at every
// stat and lookup: sandboxes appear and disappear at once, and sizes are
// exact.
package fs

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
)

// Options configure a mount.
type Options struct {
	// ListAll lists the follow files and seek in readdir. Off by default:
	// tools that walk the tree (grep -r, tar, rsync, find) must never
	// open a file whose reads block.
	ListAll bool
	// AllowOther lets other users read the mount (fuse allow_other).
	AllowOther bool
	// DirectMount mounts with mount(2) (root only) instead of fusermount3.
	DirectMount bool
	// Debug logs every FUSE request.
	Debug bool
}

// Server is a mounted filesystem being served.
type Server struct {
	*fuse.Server
	rec *recorder
}

// ReadsInFlight returns how many READ requests are being served now.
func (s *Server) ReadsInFlight() int { return s.rec.inFlight() }

// Mount mounts the filesystem of fsys at dir and serves it in the
// background. The caller unmounts it with the server's Unmount (after
// fsys.Shutdown, which ends blocked readers).
func Mount(dir string, fsys *cursorfs.FS, o Options) (*Server, error) {
	zero := time.Duration(0)
	fsys.SetAllowOther(o.AllowOther)
	st := newState(fsys, o)
	// Every node sets its owner and mode itself (perm.go): no defaults.
	opts := &gofs.Options{
		EntryTimeout:    &zero,
		AttrTimeout:     &zero,
		NegativeTimeout: &zero,
		NullPermissions: true,
	}
	opts.MountOptions = fuse.MountOptions{
		FsName:            "msb-logfs",
		Name:              "msb-logfs",
		AllowOther:        o.AllowOther,
		DirectMount:       o.DirectMount,
		DirectMountStrict: o.DirectMount,
		Debug:             o.Debug,
		DisableXAttrs:     true,
		MaxReadAhead:      128 << 10,
		// With READDIRPLUS every listing looks up every entry, so a plain
		// ls of 10,000 sandboxes would stat them all; tools that want the
		// attributes (ls -l, find) ask for them anyway.
		DisableReadDirPlus: true,
		// Reads of generated files each make a round trip: let one
		// carry up to readSize bytes (max_read, max_pages).
		MaxWrite: readSize,
		// go-fuse's own lines (a failed splice falls back to a copy,
		// once per 1 MiB read) are debug detail, not an operator's.
		Logger: slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug),
	}
	if o.AllowOther {
		// The kernel checks every access against the owners and modes
		// the disk grants (perm.go).
		opts.MountOptions.Options = append(opts.MountOptions.Options, "default_permissions")
	}
	st.rec = newRecorder(gofs.NewNodeFS(&root{st: st}, opts))
	srv, err := fuse.NewServer(st.rec, dir, &opts.MountOptions)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		_ = srv.Unmount()
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	return &Server{Server: srv, rec: st.rec}, nil
}

// readSize is the largest READ the kernel sends, and the block size files
// advertise, so that cat and cp ask for that much at a time.
const readSize = 1 << 20

// state is what every node of one mount shares.
type state struct {
	fsys *cursorfs.FS
	opts Options
	rec  *recorder

	mu       sync.Mutex
	inos     map[string]uint64 // sandbox name → inode number of its directory
	dirs     map[string]*listing
	sessDirs map[string]*listing // of the sandboxes' sessions directories
	list     listing             // the root's
	start    time.Time
}

func newState(fsys *cursorfs.FS, o Options) *state {
	now := time.Now()
	return &state{
		fsys: fsys, opts: o,
		inos: make(map[string]uint64), dirs: make(map[string]*listing),
		sessDirs: make(map[string]*listing),
		list:     listing{mtime: now}, start: now,
	}
}

// inoStride spaces the inode numbers of sandbox directories: a directory
// has base and its files base+1+index in cursorfs.Files.
const inoStride = 32

// sandboxIno returns the stable inode number of sandbox name's directory.
func (s *state) sandboxIno(name string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ino, ok := s.inos[name]
	if !ok {
		ino = uint64(len(s.inos)+1) * inoStride
		s.inos[name] = ino
	}
	return ino
}

// sessionIno returns the inode number of the directory of session id of
// sandbox: a hash of both, so that it is the same for the mount's life (and
// across mounts) without a table that grows with every session met. The
// numbers lie in [sessionInoBase, 2^63), sessionStride apart, each
// followed by those of the session's files (base+1+index in
// cursorfs.SessionFiles). Two sessions share a number with a chance of
// about n²/2^59 for n sessions (10^-6 for a million).
func sessionIno(sandbox string, id uint64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(sandbox))
	h.Write(binary.LittleEndian.AppendUint64([]byte{0}, id))
	return sessionInoBase + h.Sum64()%sessionSlots*sessionStride
}

// Session directories' inode numbers: far above the sandboxes' (which
// would need 2^57 sandboxes to reach them), with room for the files of
// cursorfs.SessionFiles after each.
const (
	sessionInoBase = 1 << 62
	sessionStride  = 16
	sessionSlots   = (1<<63 - sessionInoBase) / sessionStride
)

// dirListing returns the listing record of sandbox name's directory.
func (s *state) dirListing(name string) *listing {
	return s.listingIn(s.dirs, name)
}

// sessionsListing returns the listing record of the sessions directory of
// sandbox name.
func (s *state) sessionsListing(name string) *listing {
	return s.listingIn(s.sessDirs, name)
}

// listingIn returns the listing record of name in m, made on first use.
func (s *state) listingIn(m map[string]*listing, name string) *listing {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := m[name]
	if l == nil {
		l = &listing{mtime: s.start}
		m[name] = l
	}
	return l
}

// listing gives a directory a modification time that moves only when its
// listing changes.
type listing struct {
	mu    sync.Mutex
	key   string
	seen  bool
	mtime time.Time
}

// observe records the current listing, summarised by key, and returns the
// directory's time.
func (l *listing) observe(key string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen && key != l.key {
		l.mtime = time.Now()
	}
	l.key, l.seen = key, true
	return l.mtime
}
