package test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/microsandbox/msb-logfs/cursorfs"
	"github.com/microsandbox/msb-logfs/engine"
	logfs "github.com/microsandbox/msb-logfs/fs"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// forgetMount is an in-process mount whose idle sandboxes are given back
// after idle, so that the test can read how many nodes the kernel knows.
type forgetMount struct {
	dir  string
	home *engine.Home
	fsys *cursorfs.FS
	srv  *logfs.Server
	once sync.Once
}

func mountForgetting(t *testing.T, home string, o logfs.Options) *forgetMount {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil || os.Geteuid() != 0 {
		requireFUSE(t, "an in-process mount needs /dev/fuse and root")
	}
	h, err := engine.OpenHome(home)
	if err != nil {
		t.Fatal(err)
	}
	m := &forgetMount{dir: t.TempDir(), home: h, fsys: cursorfs.New(h)}
	o.DirectMount = true
	m.srv, err = logfs.Mount(m.dir, m.fsys, o)
	if err != nil {
		h.Close()
		t.Fatal(err)
	}
	t.Cleanup(m.close)
	return m
}

// close unmounts and closes the home, once.
func (m *forgetMount) close() {
	m.once.Do(func() {
		m.fsys.Shutdown()
		if err := m.srv.Unmount(); err != nil {
			_ = unix.Unmount(m.dir, unix.MNT_DETACH)
		}
		m.home.Close()
	})
}

// heldShell is a bash whose working directory is a sandbox of the mount
// and which holds two descriptors of its stdout; it runs its checks when
// told to.
type heldShell struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startHeldShell starts the shell in dir; it prints ready once it holds
// its descriptors, then waits for a line.
func startHeldShell(t *testing.T, dir string) *heldShell {
	t.Helper()
	script := `cd "$1" && exec 5<stdout 6<stdout && echo ready && read -r _ &&
wc -c <&5 && cat <&6 | tail -n 1 && wc -c <stdout && tail -n 1 stdout && ls | tr '\n' ' ' && echo`
	cmd := exec.Command("bash", "-c", script, "bash", dir)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &heldShell{cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if l, err := s.out.ReadString('\n'); err != nil || l != "ready\n" {
		t.Fatalf("held shell: %q, %v", l, err)
	}
	return s
}

// check runs the shell's checks and returns their lines.
func (s *heldShell) check(t *testing.T) []string {
	t.Helper()
	if _, err := io.WriteString(s.in, "go\n"); err != nil {
		t.Fatal(err)
	}
	_ = s.in.Close()
	out, err := io.ReadAll(s.out)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("held shell: %v, output %q", err, out)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// mapShared maps the file p shared and read-only, closes its descriptor
// (the mapping holds the file) and returns the mapping, what read gave
// before, and the unmap (made at the test's end if not before).
func mapShared(t *testing.T, p string) (mapped, read []byte, unmap func()) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read, err = io.ReadAll(f)
	if err != nil || len(read) == 0 {
		t.Fatalf("read %s: %d bytes, %v", p, len(read), err)
	}
	mapped, err = unix.Mmap(int(f.Fd()), 0, len(read), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatalf("mmap %s: %v", p, err)
	}
	var once sync.Once
	unmap = func() { once.Do(func() { _ = unix.Munmap(mapped) }) }
	t.Cleanup(unmap)
	return mapped, read, unmap
}

// TestForgetIdleSandboxes: after find and cat over 300 sandboxes, the
// kernel forgets the nodes of every sandbox left idle for the interval,
// with no memory pressure: the mount keeps about as many as are in use. A
// shell whose working directory is a dropped sandbox, and its descriptors
// there, keep working (read, fstat, ls, a lookup of a name), as does a
// shared mapping of a file there whose descriptor was closed; sandboxes
// written after their entries were dropped show their new content; the
// mount's goroutines end with it.
func TestForgetIdleSandboxes(t *testing.T) {
	const sandboxes = 300
	line := func(i int) string { return fmt.Sprintf("line %06d %s", i, strings.Repeat("x", 40)) }
	perLine := len(line(0)) + 1
	goroutines := runtime.NumGoroutine()
	home := t.TempDir()
	if _, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: sandboxes, Lines: 10}); err != nil {
		t.Fatal(err)
	}
	writers := map[string]*msbwriter.Sandbox{}
	for _, name := range []string{"held", "late"} {
		w, err := msbwriter.Create(home, name, msbwriter.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		writeLines(t, w, 0, 20)
		writers[name] = w
	}
	m := mountForgetting(t, home, logfs.Options{ForgetIdle: time.Second})
	shell := startHeldShell(t, filepath.Join(m.dir, "held"))
	mapped, mappedWant, unmap := mapShared(t, filepath.Join(m.dir, "held", "merged"))

	found := sh(t, 5*time.Minute, "find "+q(m.dir)+" -type f -exec cat {} + >/dev/null; find "+q(m.dir)+" | wc -l")
	peak := m.srv.KnownNodes()
	if n, err := strconv.Atoi(strings.TrimSpace(found)); err != nil || n < 10*sandboxes {
		t.Fatalf("find listed %q entries over %d sandboxes", found, sandboxes)
	}
	waited := waitFor(t, 30*time.Second, "the idle sandboxes' nodes to be forgotten", func() bool {
		return m.srv.KnownNodes() <= 10 && m.srv.KnownSandboxes() <= 1
	})
	t.Logf("find listed %s entries; %d nodes known after the walk, %d after %v more (the held directory and files)",
		strings.TrimSpace(found), peak, m.srv.KnownNodes(), waited.Round(time.Millisecond))

	if !bytes.Equal(mapped, mappedWant) { // the pages not in the cache are read now
		t.Errorf("a shared mapping of merged after its sandbox was dropped differs from what read gave")
	}
	unmap()
	writeLines(t, writers["held"], 20, 30)
	writeLines(t, writers["late"], 20, 25)
	time.Sleep(engine.HoldFor + 20*time.Millisecond) // a state shown is held that long
	got := shell.check(t)
	want := []string{
		strconv.Itoa(20 * perLine), line(19), // the descriptors: their state at open
		strconv.Itoa(30 * perLine), line(29), // by name from the working directory: now
	}
	if len(got) != 5 || !slices.Equal(got[:4], want) || !strings.Contains(got[4], "merged ") || !strings.Contains(got[4], "sessions") {
		t.Errorf("held shell after its sandbox was dropped: %q, want %q and a listing", got, want)
	}
	if late := string(mustRead(t, filepath.Join(m.dir, "late", "stdout"))); !strings.HasSuffix(late, line(24)+"\n") || len(late) != 25*perLine {
		t.Errorf("a sandbox written after its entry was dropped shows %d bytes ending %q", len(late), late[max(0, len(late)-perLine):])
	}

	m.close()
	waitFor(t, 10*time.Second, "the mount's goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
}

// TestForgetIdleDefault: the mount the command makes gives back the nodes
// of sandboxes left idle for 5 s, not sooner: its debug log shows the
// kernel's FORGETs, with no memory pressure.
func TestForgetIdleDefault(t *testing.T) {
	const sandboxes = 20
	home := t.TempDir()
	if _, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: sandboxes, Lines: 5}); err != nil {
		t.Fatal(err)
	}
	m := mount(t, home, "--debug")
	forgets := func() int { return strings.Count(m.stderr.String(), ": FORGET n") }
	sh(t, time.Minute, "cat "+q(m.dir)+"/sb-*/merged >/dev/null")
	walked := time.Now()
	time.Sleep(4 * time.Second)
	if n := forgets(); n != 0 {
		t.Fatalf("%d nodes forgotten within 4 s of their use", n)
	}
	// Each sandbox's directory and the state of its merged.
	waitFor(t, 30*time.Second, "the idle sandboxes' nodes to be forgotten", func() bool { return forgets() >= 2*sandboxes })
	t.Logf("%d nodes forgotten %v after the walk", forgets(), time.Since(walked).Round(100*time.Millisecond))
}

// TestForgetBeyond: a walk faster than the idle interval leaves the kernel
// knowing at most about the bound of sandbox directories: past it, the
// least recently used are given back at once. The kernel forgets them a
// little after it is told to, while the walk goes on: the bound is large
// enough beside what a walk looks up meanwhile (some tens of sandboxes on
// a loaded machine) for twice the bound to be its limit, and the walk
// goes four times past it.
func TestForgetBeyond(t *testing.T) {
	const sandboxes, bound = 600, 150
	home := t.TempDir()
	if _, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: sandboxes, Lines: 5}); err != nil {
		t.Fatal(err)
	}
	m := mountForgetting(t, home, logfs.Options{ForgetIdle: time.Hour, ForgetBeyond: bound})
	walked := make(chan error, 1)
	var lines, errOut string
	go func() {
		var err error
		lines, errOut, err = shErr(5*time.Minute, "find "+q(m.dir)+" -type f -exec cat {} + | wc -l")
		walked <- err
	}()
	most := 0
	for done := false; !done; {
		select {
		case err := <-walked:
			if err != nil {
				t.Fatalf("walk: %v: %s", err, errOut)
			}
			done = true
		case <-time.After(2 * time.Millisecond):
		}
		most = max(most, m.srv.KnownSandboxes())
	}
	t.Logf("walk: %s lines; at most %d sandbox directories known at once, bound %d", strings.TrimSpace(lines), most, bound)
	if most > 2*bound {
		t.Errorf("%d sandbox directories known at once during the walk, bound %d", most, bound)
	}
	if most < bound {
		t.Errorf("at most %d sandbox directories known during a walk of %d: the walk did not reach the bound", most, sandboxes)
	}
	waitFor(t, 10*time.Second, "the sandboxes past the bound to be forgotten", func() bool { return m.srv.KnownSandboxes() <= bound })
}
