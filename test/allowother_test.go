package test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestAllowOtherKeepsDiskPermissions mounts, as root with --allow-other, a
// home where sandbox a's exec.log is root's 0600 in 0700 directories,
// sandbox c's is root's 0600 in 0755 directories, and sandbox b is
// world-readable. User nobody reads b through every tool and is refused a
// and c's content, as on disk (c's sessions are content too); root reads
// all.
func TestAllowOtherKeepsDiskPermissions(t *testing.T) {
	if os.Geteuid() != 0 {
		requireFUSE(t, "needs root to run tools as another user")
	}
	dir, err := os.MkdirTemp("", "msb-logfs-allow-other-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	wa := openSandbox(t, home, "a")
	wb := openSandbox(t, home, "b")
	wc := openSandbox(t, home, "c")
	mark(t, wa, "secret of a")
	mark(t, wb, "public of b")
	mark(t, wc, "secret of c")
	for _, p := range []string{sandboxDir(home, "a"), filepath.Join(sandboxDir(home, "a"), "logs")} {
		if err := os.Chmod(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{sandboxDir(home, "c"), filepath.Join(sandboxDir(home, "c"), "logs")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, sb := range []string{"a", "c"} {
		if err := os.Chmod(filepath.Join(sandboxDir(home, sb), "logs", "exec.log"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The directory is the user's view of disk permissions: nobody
	// cannot read a's log on disk.
	if _, err := asNobody(t, "cat", filepath.Join(sandboxDir(home, "a"), "logs", "exec.log")).Output(); err == nil {
		t.Fatal("nobody reads a's exec.log on disk: the test's premise fails")
	}
	m := mountAt(t, home, filepath.Join(dir, "mnt"), "--allow-other")

	for _, file := range []string{"stdout", "merged", "merged.jsonl", "system", "cursor"} {
		if out, err := asNobody(t, "cat", m.path("a", file)).CombinedOutput(); err == nil || !strings.Contains(string(out), "Permission denied") {
			t.Errorf("nobody: cat a/%s: %v %q, want Permission denied", file, err, out)
		}
		if _, err := asNobody(t, "cat", m.path("b", file)).Output(); err != nil {
			t.Errorf("nobody: cat b/%s: %v", file, err)
		}
	}
	if out, err := asNobody(t, "cat", m.path("b", "stdout")).Output(); err != nil || string(out) != "public of b\n" {
		t.Errorf("nobody: cat b/stdout: %q %v", out, err)
	}
	if out, err := asNobody(t, "ls", m.path("a")).CombinedOutput(); err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("nobody: ls a: %v %q, want Permission denied", err, out)
	}
	if out, err := asNobody(t, "ls", m.path("b")).Output(); err != nil || !strings.Contains(string(out), "merged.jsonl") {
		t.Errorf("nobody: ls b: %q %v", out, err)
	}
	if out, err := asNobody(t, "stat", "-c", "%A %U", m.path("a", "stdout")).CombinedOutput(); err == nil {
		t.Errorf("nobody: stat a/stdout succeeded: %q", out)
	}
	if out, err := asNobody(t, "stat", "-c", "%A %U", m.path("b", "stdout")).Output(); err != nil || string(out) != "-r--r--r-- root\n" {
		t.Errorf("nobody: stat b/stdout: %q %v", out, err)
	}
	out, _ := asNobody(t, "grep", "-r", "of", m.dir).Output()
	if !strings.Contains(string(out), "public of b") || strings.Contains(string(out), "secret") {
		t.Errorf("nobody: grep -r: %q, want b's line and none of a's", out)
	}
	if out, err := asNobody(t, "tail", "-f", m.path("a", "stdout.follow")).CombinedOutput(); err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("nobody: tail -f a/stdout.follow: %v %q, want Permission denied", err, out)
	}
	sessionsAsNobody(t, m)
	tailB(t, m, wb)
	for name, want := range map[string]syscall.Errno{"a": syscall.EACCES, "b": 0} {
		if got := seekAsNobody(t, m.path(name, "seek")); got != want {
			t.Errorf("nobody: open %s/seek read-write: %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"a", "b"} {
		if got := string(mustRead(t, m.path(name, "stdout"))); !strings.Contains(got, " of "+name+"\n") {
			t.Errorf("root: %s/stdout: %q", name, got)
		}
	}
}

// sessionsAsNobody: nobody lists c (its logs directory is 0755) but not
// its sessions, which are made of the exec.log nobody cannot read, nor
// looks one up; b's sessions are theirs to list and read; root lists c's.
func sessionsAsNobody(t *testing.T, m *mountProc) {
	t.Helper()
	if out, err := asNobody(t, "ls", m.path("c")).Output(); err != nil || !strings.Contains(string(out), "sessions") {
		t.Errorf("nobody: ls c: %q %v", out, err)
	}
	for _, args := range [][]string{
		{"ls", "-la", m.path("c", "sessions")},
		{"stat", m.path("c", "sessions", "2")},
		{"ls", m.path("c", "sessions", "2")},
		{"cat", m.path("c", "sessions", "2", "info")},
	} {
		out, err := asNobody(t, args[0], args[1:]...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Permission denied") || strings.Count(string(out), "\n") != 1 {
			t.Errorf("nobody: %q: %v %q, want Permission denied and nothing else", args, err, out)
		}
	}
	for path, want := range map[string]string{m.path("c", "sessions"): "dr-x------ root\n", m.path("b", "sessions"): "dr-xr-xr-x root\n"} {
		if out, err := asNobody(t, "stat", "-c", "%A %U", path).CombinedOutput(); err != nil || string(out) != want {
			t.Errorf("nobody: stat %s: %q %v, want %q", path, out, err, want)
		}
	}
	if out, err := asNobody(t, "ls", m.path("b", "sessions")).Output(); err != nil || string(out) != "2\n" {
		t.Errorf("nobody: ls b/sessions: %q %v", out, err)
	}
	if out, err := asNobody(t, "cat", m.path("b", "sessions", "2", "stdout")).Output(); err != nil || string(out) != "public of b\n" {
		t.Errorf("nobody: cat b/sessions/2/stdout: %q %v", out, err)
	}
	if out, err := exec.Command("ls", m.path("c", "sessions")).Output(); err != nil || string(out) != "2\n" {
		t.Errorf("root: ls c/sessions: %q %v", out, err)
	}
}

// openSandbox creates sandbox name in home; the test closes it.
func openSandbox(t *testing.T, home, name string) *msbwriter.Sandbox {
	t.Helper()
	w, err := msbwriter.Create(home, name, msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// asNobody returns a command that runs as user and group nobody, killed
// after 10 s (a follow file opened by mistake blocks forever).
func asNobody(t *testing.T, name string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	return cmd
}

// tailB runs `tail -f b/stdout.follow` as nobody and waits for a line
// appended after it started.
func tailB(t *testing.T, m *mountProc, wb *msbwriter.Sandbox) {
	t.Helper()
	cmd := asNobody(t, "tail", "-f", m.path("b", "stdout.follow"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	got := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			got <- sc.Text()
		}
		close(got)
	}()
	for _, want := range []string{"public of b", "appended to b"} {
		select {
		case line := <-got:
			if line != want {
				t.Fatalf("nobody: tail -f b/stdout.follow: %q, want %q", line, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("nobody: tail -f b/stdout.follow: no %q within 5 s", want)
		}
		if want == "public of b" {
			mark(t, wb, "appended to b")
		}
	}
}

// seekAsNobody opens path read-write as nobody in a child process, and
// returns the errno of the open.
func seekAsNobody(t *testing.T, path string) syscall.Errno {
	t.Helper()
	out, err := asNobody(t, "sh", "-c", `exec 3<>"$1" && printf 'start\n' >&3 && head -c 1 <&3`, "sh", path).CombinedOutput()
	switch {
	case err == nil && string(out) == "{":
		return 0
	case strings.Contains(string(out), "Permission denied"):
		return syscall.EACCES
	}
	t.Fatalf("open %s as nobody: %v %q", path, err, out)
	return 0
}

// TestModesWithoutAllowOther: without --allow-other nothing changes:
// everything belongs to the user who mounted, directories 0555, files
// 0444, seek 0644, whatever the disk's modes.
func TestModesWithoutAllowOther(t *testing.T) {
	home, _ := quietBox(t, 3)
	logs := filepath.Join(sandboxDir(home, "box"), "logs")
	if err := os.Chmod(filepath.Join(logs, "exec.log"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := mount(t, home)
	for p, want := range map[string]os.FileMode{
		m.dir:                          os.ModeDir | 0o555,
		m.path("box"):                  os.ModeDir | 0o555,
		m.path("box", "stdout"):        0o444,
		m.path("box", "merged"):        0o444,
		m.path("box", "cursor"):        0o444,
		m.path("box", "seek"):          0o644,
		m.path("box", "stdout.follow"): 0o444,
		m.path("box", "sessions"):      os.ModeDir | 0o555,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode() != want || st.Uid != uint32(os.Getuid()) || st.Gid != uint32(os.Getgid()) {
			t.Errorf("%s: %v %d:%d, want %v owned by %d:%d", p, fi.Mode(), st.Uid, st.Gid, want, os.Getuid(), os.Getgid())
		}
	}
}
