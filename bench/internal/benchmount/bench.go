package benchmount

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// ErrInterrupted is returned when a SIGINT or SIGTERM cut a run short.
var ErrInterrupted = errors.New("interrupted")

// Bench is the temporary directory of one benchmark run: a microsandbox
// home with one sandbox, a mountpoint for it, and the msb-logfs binary.
type Bench struct {
	Dir     string             // the temporary directory; Close removes it
	Home    string             // the microsandbox home, Dir/home
	Mnt     string             // the mountpoint, Dir/mnt
	Bin     string             // the msb-logfs binary
	Name    string             // the sandbox's name
	Sandbox *msbwriter.Sandbox // its writer
}

// Setup makes a temporary directory "msb-logfs-<name>.*", creates the
// sandbox name in a home inside it with opts, and finds the msb-logfs
// binary: bin, or when bin is "" ./cmd/msb-logfs built into the directory.
// Close undoes it all.
func Setup(name, bin string, opts msbwriter.Options) (*Bench, error) {
	dir, err := os.MkdirTemp("", "msb-logfs-"+name+".")
	if err != nil {
		return nil, err
	}
	b := &Bench{Dir: dir, Home: filepath.Join(dir, "home"), Mnt: filepath.Join(dir, "mnt"), Name: name}
	if err := b.prepare(bin, opts); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bench) prepare(bin string, opts msbwriter.Options) error {
	if err := os.Mkdir(b.Mnt, 0o755); err != nil {
		return err
	}
	var err error
	if b.Bin, err = Binary(bin, b.Dir); err != nil {
		return err
	}
	b.Sandbox, err = msbwriter.Create(b.Home, b.Name, opts)
	return err
}

// Close closes the sandbox's writer and removes the temporary directory,
// but never while something is still mounted on Mnt.
func (b *Bench) Close() {
	if b.Sandbox != nil {
		_ = b.Sandbox.Close()
	}
	unmountLeftover(b.Mnt)
	if isMounted(b.Mnt) {
		log.Printf("%s is still mounted: leaving %s", b.Mnt, b.Dir)
		return
	}
	if err := os.RemoveAll(b.Dir); err != nil {
		log.Printf("clean up: %v", err)
	}
}

// SandboxDir is the sandbox's directory in the mount.
func (b *Bench) SandboxDir() string { return filepath.Join(b.Mnt, b.Name) }

// Mount starts `msb-logfs mount` of Home on Mnt, its output to Dir/mount.log,
// and waits until the sandbox shows in it.
func (b *Bench) Mount(ctx context.Context) (*Mount, error) {
	return startMount(ctx, b.Bin, b.Home, b.Mnt, filepath.Join(b.Dir, "mount.log"), b.SandboxDir())
}

// Follow opens file of the mounted sandbox with a raw blocking open(2).
// os.Open would put a FUSE file in non-blocking mode and park on EAGAIN
// waiting for a poll readiness that go-fuse never reports (it answers POLL
// with ENOSYS).
func (b *Bench) Follow(file string) (*os.File, error) {
	path := filepath.Join(b.SandboxDir(), file)
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// Workdir makes a temporary directory named after prefix and returns it
// with the msb-logfs binary to run (see Binary). The caller removes dir.
func Workdir(prefix, bin string) (dir, binPath string, err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", err
	}
	if binPath, err = Binary(bin, dir); err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	return dir, binPath, nil
}

// Binary returns bin, or builds ./cmd/msb-logfs into dir when bin is "".
func Binary(bin, dir string) (string, error) {
	if bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", err
		}
		return filepath.Abs(bin)
	}
	out := filepath.Join(dir, "msb-logfs")
	cmd := exec.Command("go", "build", "-o", out, "github.com/microsandbox/msb-logfs/cmd/msb-logfs")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/msb-logfs (run from inside the module, or pass -bin): %w", err)
	}
	return out, nil
}

// Main calls run with a context cancelled at the first SIGINT or SIGTERM
// and logs the error it returns. Once run has cleaned up, the process dies
// of that signal if one came (a process running the command, bench/run,
// then knows it was interrupted and stops too), else exits 1 if run failed
// or reported a failed check, else returns.
func Main(run func(ctx context.Context) (ok bool, err error)) {
	ctx, caught := catchSignals()
	ok, err := run(ctx)
	if err != nil {
		log.Print(err)
	}
	caught()
	if err != nil || !ok {
		os.Exit(1)
	}
}

// catchSignals returns a context cancelled at the first SIGINT or SIGTERM,
// and a function that, once the caller has cleaned up, ends the process
// with that signal.
func catchSignals() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	var got atomic.Value
	go func() {
		s := <-sigs
		got.Store(s)
		cancel()
	}()
	return ctx, func() {
		s, ok := got.Load().(os.Signal)
		if !ok {
			return
		}
		signal.Reset(s)
		_ = syscall.Kill(os.Getpid(), s.(syscall.Signal))
		time.Sleep(time.Second) // the signal is on its way
		os.Exit(128 + int(s.(syscall.Signal)))
	}
}
