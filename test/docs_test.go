package test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// docMountpoint is the mountpoint docs/filesystem.md writes its commands for.
const docMountpoint = "/mnt/msb-logs"

// docCommand is one runnable piece of a ```sh block of a doc: a whole
// block, or one line of a block whose commands never end.
type docCommand struct {
	line    int    // the doc's line of its first command
	script  string // shell text, as the doc shows it
	endless bool   // a follower: runs until stopped
}

// interactive reports whether a doc line needs a terminal or starts and
// stops mounts: TestLnavLive, TestLnavFollow and the mount tests drive those.
func interactive(line string) bool {
	for _, prefix := range []string{"lnav /", "less ", "msb-logfs mount", "msb-logfs unmount"} {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

// endless reports whether a doc line follows a file: it never ends.
func endless(line string) bool {
	return strings.Contains(line, ".follow") || strings.Contains(line, " logs -f ")
}

// docCommands reads the ```sh blocks of the Markdown file at path. A block
// with a line that never ends is split into its lines, each run alone;
// any other block runs whole, in one shell, as a reader pastes it.
func docCommands(t *testing.T, path string) []docCommand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []docCommand
	var block []docCommand
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case !in && line == "```sh":
			in, block = true, nil
		case in && line == "```":
			in = false
			cmds = append(cmds, joinBlock(block)...)
		case in && strings.TrimSpace(line) != "" && !interactive(line):
			block = append(block, docCommand{line: n, script: line, endless: endless(line)})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// joinBlock returns a block's lines as one command, or each line alone if
// one of them never ends.
func joinBlock(block []docCommand) []docCommand {
	if len(block) == 0 {
		return nil
	}
	var lines []string
	for _, c := range block {
		if c.endless {
			return block
		}
		lines = append(lines, c.script)
	}
	return []docCommand{{line: block[0].line, script: strings.Join(lines, "\n")}}
}

// TestDocCommands runs every shell command of docs/filesystem.md on a real
// mount, as a reader pastes it, the mount standing in for /mnt/msb-logs:
// sandbox foo is being written, bar is a finished corpus (with ERROR
// lines). A command that ends must exit 0 within a minute with nothing on
// stderr; a follower must still run after 3 s, having printed the lines it
// shows first.
func TestDocCommands(t *testing.T) {
	for _, tool := range []string{"jq", "rg", "rsync", "tar", "pgrep", "lnav"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed; the docs' recipes use it", tool)
		}
	}
	home := corpusHome(t, "bar", 2<<20)
	writeLive(t, home, "foo", 100, 256<<10)
	m := mount(t, home)
	ready := waitFor(t, 60*time.Second, "session 7 and a panic in foo", func() bool {
		_, err := os.Stat(m.path("foo", "sessions", "7"))
		b, _ := os.ReadFile(m.path("foo", "stderr"))
		return err == nil && bytes.Contains(b, []byte("panicked"))
	})
	t.Logf("foo has session 7 and a panic after %v", ready)
	env := append(os.Environ(),
		"PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+t.TempDir(), // lnav keeps its configuration there
		"MSB_HOME="+home)
	work := t.TempDir()
	cmds := docCommands(t, filepath.Join("..", "docs", "filesystem.md"))
	if len(cmds) < 10 {
		t.Fatalf("found %d commands in docs/filesystem.md, want its recipes", len(cmds))
	}
	for _, c := range cmds {
		script := strings.ReplaceAll(c.script, docMountpoint, m.dir)
		script = strings.ReplaceAll(script, "/var/tmp/", os.Getenv("MSB_LOGFS_CACHE_DIR")+"/")
		start := time.Now()
		stdout, stderr, exited, err := runDoc(script, env, work, c.endless)
		t.Logf("filesystem.md:%d: %v", c.line, time.Since(start).Round(time.Millisecond))
		switch {
		case c.endless && exited:
			t.Errorf("filesystem.md:%d: %s\nended (%v), want it to follow; stderr: %s", c.line, c.script, err, stderr)
		case c.endless && !strings.Contains(c.script, "|") && stdout == "":
			t.Errorf("filesystem.md:%d: %s\nprinted nothing in 3 s", c.line, c.script)
		case !c.endless && err != nil:
			t.Errorf("filesystem.md:%d:\n%s\nfailed: %v; stderr: %s", c.line, c.script, err, stderr)
		case stderr != "":
			t.Errorf("filesystem.md:%d: %s\nwrote to stderr: %s", c.line, c.script, stderr)
		}
	}
}

// runDoc runs script with bash -e in dir. An endless script is stopped
// (its whole process group) after 3 s; any other gets a minute. exited
// reports whether it ended by itself.
func runDoc(script string, env []string, dir string, endless bool) (stdout, stderr string, exited bool, err error) {
	d := time.Minute
	if endless {
		d = 3 * time.Second
	}
	cmd := exec.Command("bash", "-e", "-c", script)
	cmd.Env, cmd.Dir = env, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		return "", "", true, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	select {
	case err = <-done:
		exited = true
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if !endless {
			err = ctx.Err()
		}
	}
	return out.String(), errOut.String(), exited, err
}

// TestMmapPrivateAndInotify: what docs/filesystem.md says of mmap and
// inotify on the mount. A private mapping of a snapshot holds the bytes a
// read gives (TestMmapSnapshot maps it shared); of a follow or live file a
// shared mapping fails and a private one works; inotify reports no event
// for the mount's files while the same append fires on exec.log on disk.
func TestMmapPrivateAndInotify(t *testing.T) {
	home, w := quietBox(t, 200)
	m := mount(t, home)

	want := mustRead(t, m.path("box", "merged"))
	f, err := os.Open(m.path("box", "merged"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mapped, err := unix.Mmap(int(f.Fd()), 0, len(want), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("private mmap of a snapshot: %v", err)
	}
	if !bytes.Equal(mapped, want) {
		t.Errorf("private mmap of a snapshot: %d bytes differ from the %d read", len(mapped), len(want))
	}
	if err := unix.Munmap(mapped); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"stdout.live", "stdout.follow"} {
		mmapDirect(t, m.path("box", name))
	}

	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	watched := map[int32]string{}
	for _, p := range []string{m.path("box", "merged"), m.path("box", "stdout.live"), m.path("box", "stdout.follow"), m.path("box"),
		filepath.Join(sandboxDir(home, "box"), "logs", "exec.log")} {
		wd, err := unix.InotifyAddWatch(fd, p, unix.IN_MODIFY|unix.IN_ATTRIB|unix.IN_CREATE|unix.IN_CLOSE_WRITE)
		if err != nil {
			t.Fatalf("inotify watch %s: %v", p, err)
		}
		watched[int32(wd)] = p
	}
	mark(t, w, "INOTIFY-MARKER")
	seen := inotifyEvents(t, fd, watched, 2*time.Second)
	disk := filepath.Join(sandboxDir(home, "box"), "logs", "exec.log")
	if !seen[disk] {
		t.Errorf("no inotify event on %s after an append", disk)
	}
	for p := range seen {
		if strings.HasPrefix(p, m.dir) {
			t.Errorf("inotify event on the mount's %s; update docs/filesystem.md", p)
		}
	}
}

// mmapDirect checks what docs/filesystem.md says of mapping a follow or
// live file (direct I/O): a shared read-only mapping fails with ENODEV, a
// private one holds the bytes a read gives.
func mmapDirect(t *testing.T, p string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size := int(fstatSize(t, f))
	if size == 0 {
		t.Fatalf("%s: empty, nothing to map", p)
	}
	if b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED); err != unix.ENODEV {
		if err == nil {
			_ = unix.Munmap(b)
		}
		t.Errorf("%s: shared mmap: %v, want ENODEV", p, err)
	}
	mapped, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("%s: private mmap: %v", p, err)
	}
	defer unix.Munmap(mapped)
	want := make([]byte, size)
	if n, err := f.ReadAt(want, 0); n != size {
		t.Fatalf("%s: pread of %d bytes: %d, %v", p, size, n, err)
	}
	if !bytes.Equal(mapped, want) {
		t.Errorf("%s: private mmap of %d bytes differs from pread", p, size)
	}
}

// inotifyEvents reads the events of the non-blocking inotify fd for d and
// returns the watched paths that had one.
func inotifyEvents(t *testing.T, fd int, watched map[int32]string, d time.Duration) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	buf := make([]byte, 64<<10)
	for end := time.Now().Add(d); time.Now().Before(end); {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(time.Until(end)/time.Millisecond)+1); err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
		n, err := unix.Read(fd, buf)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			seen[watched[ev.Wd]] = true
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
	return seen
}

// TestDocKernelKeeps: what docs/filesystem.md ("What the kernel keeps")
// tells users of a snapshot's inode. stat and ls -i give the state's
// number and find -printf %i (readdir's d_ino) the name's; after a write
// the first changes and the second does not. A descriptor reopened through
// /proc/self/fd fails with "Stale file handle" once the sandbox wrote,
// while reading it goes on giving the snapshot.
func TestDocKernelKeeps(t *testing.T) {
	home, w := quietBox(t, 200)
	m := mount(t, home)
	p := m.path("box", "merged")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	snap := mustRead(t, p)

	stat, ls, dIno := docInodes(t, m.dir, p)
	if stat != ls || stat == dIno {
		t.Fatalf("before a write: stat %s, ls -i %s, find -printf %%i %s; want stat = ls -i (the state's) and find's the name's", stat, ls, dIno)
	}
	mark(t, w, "NEW STATE")
	waitFor(t, 5*time.Second, "a new state", func() bool {
		s, _, _ := docInodes(t, m.dir, p)
		return s != stat
	})
	stat2, ls2, dIno2 := docInodes(t, m.dir, p)
	if stat2 != ls2 || dIno2 != dIno {
		t.Errorf("after a write: stat %s, ls -i %s, find -printf %%i %s (was %s); want stat = ls -i, and find's unchanged", stat2, ls2, dIno2, dIno)
	}

	reopen := exec.Command("cat", "/proc/self/fd/3")
	reopen.ExtraFiles = []*os.File{f}
	if out, err := reopen.CombinedOutput(); err == nil || !strings.Contains(string(out), "Stale file handle") {
		t.Errorf("cat /proc/self/fd/3 after a write: %v %q, want Stale file handle", err, tail(out))
	}
	read := exec.Command("bash", "-c", "cat <&3")
	read.ExtraFiles = []*os.File{f}
	if out, err := read.Output(); err != nil || !bytes.Equal(out, snap) {
		t.Errorf("cat <&3 after a write: %v, %d bytes, want the snapshot's %d", err, len(out), len(snap))
	}
}

// docInodes returns merged's inode number as stat, ls -i and
// find -printf %i print it.
func docInodes(t *testing.T, dir, p string) (stat, ls, find string) {
	t.Helper()
	box := filepath.Join(dir, "box")
	stat = strings.TrimSpace(sh(t, 10*time.Second, "stat -c %i "+q(p)))
	for _, l := range strings.Split(sh(t, 10*time.Second, "ls -i "+q(box)), "\n") {
		if fields := strings.Fields(l); len(fields) == 2 && fields[1] == "merged" {
			ls = fields[0]
		}
	}
	find = sh(t, 10*time.Second, "find "+q(box)+" -maxdepth 1 -name merged -printf %i")
	return stat, ls, find
}

// TestDocTailFMerged: `tail -F merged` prints the file again, saying it
// was replaced, while the sandbox writes; `tail -F merged.live` follows
// the same writes without a word on stderr (docs/filesystem.md).
func TestDocTailFMerged(t *testing.T) {
	home, w := quietBox(t, 50)
	m := mount(t, home)
	first := lines(mustRead(t, m.path("box", "merged")))[0]
	var snapOut, snapErr, liveOut, liveErr lockedBuffer
	for _, c := range []struct {
		name     string
		out, err *lockedBuffer
	}{{"merged", &snapOut, &snapErr}, {"merged.live", &liveOut, &liveErr}} {
		cmd := exec.Command("tail", "-F", m.path("box", c.name))
		cmd.Stdout, cmd.Stderr = c.out, c.err
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	replaced := func() bool { return strings.Contains(snapErr.String(), "has been replaced") }
	for i := 0; !replaced() && i < 150; i++ { // GNU tail looks at the name after 5 polls of 1 s
		mark(t, w, fmt.Sprintf("TAILF %03d", i))
		time.Sleep(200 * time.Millisecond)
	}
	if !replaced() {
		t.Fatalf("tail -F merged: no 'has been replaced' in 30 s of writes; stderr %q", snapErr.String())
	}
	waitFor(t, 5*time.Second, "tail -F merged to print the file again", func() bool {
		return strings.Contains(snapOut.String(), first)
	})
	if !strings.Contains(liveOut.String(), "TAILF 000") || liveErr.String() != "" {
		t.Errorf("tail -F merged.live: TAILF 000 printed: %v; stderr %q", strings.Contains(liveOut.String(), "TAILF 000"), liveErr.String())
	}
}
