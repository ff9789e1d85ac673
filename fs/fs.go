// Package fs is the FUSE face of msb-logfs: it maps go-fuse's calls onto the
// directories, files and handles of package cursorfs and nothing else. A
// directory is a cursorfs.Dir (List, Lookup, Stat), a file a cursorfs.Node
// (Stat, Open) and an open file a cursorfs.Handle (Read, Write, Stat, Close,
// and its open flags as data); what they show, their inode numbers and how
// long the kernel may keep their attributes come from cursorfs. A snapshot
// file, the cursor and an info are stateNodes, one inode per state
// (state.go); any other file a fileNode. What stays here is what only FUSE
// needs: the O_NONBLOCK of a READ and whether a GETATTR named its handle
// (raw.go), finding the caller's handle for an fstat that names none
// (file.go), the directory handles that let the kernel keep listings and
// answer READDIRPLUS (dirhandle.go), serving READDIRs of a kernel that opens
// no directory (dirreads.go), giving back to the kernel the entries of
// sandboxes nobody used for a while (idle.go), and the errno of every error
// (errno.go).
package fs

import (
	"fmt"
	"log/slog"
	"sync/atomic"
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
	// ForgetIdle is how long a sandbox's directory goes unused (no
	// lookup, listing, stat or open in it or under it) before the mount
	// tells the kernel to drop its entry, so that the kernel forgets the
	// nodes of its files and the mount lets them go. 0 means 5 s; a
	// negative value gives back nothing, ForgetBeyond included.
	ForgetIdle time.Duration
	// ForgetBeyond is how many sandbox directories in use the kernel may
	// know at once: past it, the least recently used are dropped before
	// their idle interval, down to three quarters of it. 0 means 2,000; a
	// negative value sets no bound.
	ForgetBeyond int
}

// Server is a mounted filesystem being served.
type Server struct {
	*fuse.Server
	rec    *recorder
	st     *state
	served chan struct{} // closed when Serve returns
	idle   chan struct{} // closed when the goroutine that drops idle entries ends
}

// KnownStates returns how many states of snapshot files the kernel knows
// (each is a node the mount keeps until the kernel forgets it), off by one
// for a while in the races tally names.
func (s *Server) KnownStates() int64 { return s.st.states.Load() }

// KnownNodes returns how many nodes the kernel knows, the root aside: the
// directories, files and states the mount keeps until it forgets them,
// off by one for a while in the races tally names.
func (s *Server) KnownNodes() int64 { return s.st.nodes.Load() }

// KnownSandboxes returns how many sandbox directories the kernel knows.
func (s *Server) KnownSandboxes() int { return s.st.boxes.len() }

// Unmount unmounts the filesystem and waits for the mount's goroutines to
// end.
func (s *Server) Unmount() error {
	if err := s.Server.Unmount(); err != nil {
		return err
	}
	<-s.served
	<-s.idle
	return nil
}

// ReadsInFlight returns how many READ requests are being served now.
func (s *Server) ReadsInFlight() int { return s.rec.inFlight() }

// Mount mounts the filesystem of fsys at dir and serves it in the
// background. The caller unmounts it with the server's Unmount (after
// fsys.Shutdown, which ends blocked readers).
func Mount(dir string, fsys *cursorfs.FS, o Options) (*Server, error) {
	zero := time.Duration(0)
	fsys.SetAllowOther(o.AllowOther)
	fsys.SetListAll(o.ListAll)
	st := &state{fsys: fsys, wake: make(chan struct{}, 1)}
	st.boxes.bound = forgetBeyond(o.ForgetBeyond)
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
		// The kernel reads a snapshot ahead into its page cache in
		// requests of up to this: one round trip per readSize bytes of a
		// first sequential read, as for the direct reads below.
		MaxReadAhead: readSize,
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
	root := &dirNode{st: &scope{state: st}, dir: fsys.Root()}
	st.rec = newRecorder(gofs.NewNodeFS(root, opts))
	srv, err := fuse.NewServer(st.rec, dir, &opts.MountOptions)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	s := &Server{Server: srv, rec: st.rec, st: st, served: make(chan struct{}), idle: make(chan struct{})}
	go func() {
		srv.Serve()
		close(s.served)
	}()
	if err := srv.WaitMount(); err != nil {
		_ = srv.Unmount()
		<-s.served
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	s.startForgetting(&root.Inode, o.ForgetIdle)
	return s, nil
}

// startForgetting starts the goroutine that drops the entries of idle
// sandbox directories, unless idle is negative.
func (s *Server) startForgetting(root *gofs.Inode, idle time.Duration) {
	if idle < 0 {
		close(s.idle)
		return
	}
	if idle == 0 {
		idle = defaultForgetIdle
	}
	go s.st.dropIdle(root, clockFor(idle), s.served, s.idle)
}

// readSize is the largest READ the kernel sends, and the block size files
// advertise, so that cat and cp ask for that much at a time.
const readSize = 1 << 20

// state is what every node of one mount shares.
type state struct {
	fsys     *cursorfs.FS
	rec      *recorder
	states   atomic.Int64  // stateNodes the kernel knows
	nodes    atomic.Int64  // nodes the kernel knows, the root aside
	clock    atomic.Int64  // ticks of dropIdle, which stamp each use of a sandbox
	boxes    sandboxSet    // the sandbox directories the kernel knows
	lookedUp namesLooked   // the names each thread looked up lately
	wake     chan struct{} // asks dropIdle for a pass over the set's bound
}

// forgetBeyond returns the bound of the set of known sandboxes that
// Options.ForgetBeyond asks for (0: none).
func forgetBeyond(o int) int {
	switch {
	case o == 0:
		return defaultForgetBeyond
	case o < 0:
		return 0
	}
	return o
}
