package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestCursorFileEqualsCommand: the cursor file holds what
// `msb-logfs cursor` prints.
func TestCursorFileEqualsCommand(t *testing.T) {
	home := corpusHome(t, "box", 256<<10)
	m := mount(t, home)
	want := sh(t, 5*time.Second, fmt.Sprintf("%s cursor --home %s box", q(binary), q(home)))
	if got := sh(t, 5*time.Second, "cat "+q(m.path("box", "cursor"))); got != want {
		t.Fatalf("cursor file %q, command %q", got, want)
	}
}

// TestSandboxesAppearAndDisappear: a sandbox created while mounted shows
// within 1 s, a removed one goes within 1 s, and a follower of it gets end
// of file.
func TestSandboxesAppearAndDisappear(t *testing.T) {
	home := corpusHome(t, "first", 32<<10)
	m := mount(t, home)
	fi0, err := os.Stat(m.dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := msbwriter.Create(home, "second", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mark(t, w, "hello")
	has := func(name string) bool {
		out, _, err := shErr(time.Second, "ls "+q(m.dir))
		return err == nil && strings.Contains(" "+strings.Join(strings.Fields(out), " ")+" ", " "+name+" ")
	}
	t.Logf("new sandbox listed after %v", waitFor(t, time.Second, "second to appear", func() bool { return has("second") }))
	fi1, err := os.Stat(m.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi1.ModTime().After(fi0.ModTime()) {
		t.Errorf("root mtime did not move when a sandbox appeared: %v -> %v", fi0.ModTime(), fi1.ModTime())
	}
	ino := inode(t, m.path("second"))
	if fi2, _ := os.Stat(m.dir); !fi2.ModTime().Equal(fi1.ModTime()) || inode(t, m.path("second")) != ino {
		t.Errorf("root mtime or inode moved without a change")
	}

	cat := startReader(t, "cat", m.path("second", "merged.follow"))
	if l := cat.next(t, 5*time.Second); !strings.HasSuffix(l, " stdout hello") {
		t.Fatalf("follower: %q", l)
	}
	w.Close()
	if err := os.RemoveAll(sandboxDir(home, "second")); err != nil {
		t.Fatal(err)
	}
	t.Logf("removed sandbox unlisted after %v", waitFor(t, time.Second, "second to disappear", func() bool { return !has("second") }))
	if d, err := cat.waitExit(3 * time.Second); err != nil {
		t.Fatalf("follower of a removed sandbox: %v; want end of file", err)
	} else {
		t.Logf("follower of the removed sandbox ended after %v", d)
	}
	if _, err := os.Stat(m.path("second", "merged")); !os.IsNotExist(err) {
		t.Fatalf("stat inside a removed sandbox: %v", err)
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestReadOnly: every change fails with EROFS (or EACCES where the kernel
// answers first); seek is the one file that takes writes.
func TestReadOnly(t *testing.T) {
	home := corpusHome(t, "box", 32<<10)
	m := mount(t, home)
	box := m.path("box")
	merged := filepath.Join(box, "merged")
	ops := map[string]func() error{
		"create":   func() error { return os.WriteFile(filepath.Join(box, "new"), nil, 0o644) },
		"delete":   func() error { return os.Remove(merged) },
		"rmdir":    func() error { return os.Remove(box) },
		"rename":   func() error { return os.Rename(merged, filepath.Join(box, "renamed")) },
		"link":     func() error { return os.Link(merged, filepath.Join(box, "linked")) },
		"symlink":  func() error { return os.Symlink("merged", filepath.Join(box, "sym")) },
		"mkdir":    func() error { return os.Mkdir(filepath.Join(box, "dir"), 0o755) },
		"mkdir /":  func() error { return os.Mkdir(m.path("newbox"), 0o755) },
		"write":    func() error { return openWrite(merged, os.O_WRONLY) },
		"append":   func() error { return openWrite(merged, os.O_WRONLY|os.O_APPEND) },
		"truncate": func() error { return os.Truncate(merged, 0) },
		"chmod":    func() error { return os.Chmod(merged, 0o777) },
		"chown":    func() error { return os.Chown(merged, 1, 1) },
		"utimes":   func() error { return os.Chtimes(merged, time.Now(), time.Now()) },
		"rdwr follow": func() error {
			return openWrite(filepath.Join(box, "merged.follow"), os.O_RDWR)
		},
	}
	for name, op := range ops {
		err := op()
		if e := errnoOf(err); e != syscall.EROFS && e != syscall.EACCES {
			t.Errorf("%s: %v, want EROFS or EACCES", name, err)
		}
	}
	for _, script := range []string{"touch " + q(filepath.Join(box, "x")), "rm -f " + q(merged), "echo x > " + q(merged), "chmod 600 " + q(merged)} {
		if _, stderr, err := shErr(5*time.Second, script); err == nil || !strings.Contains(stderr, "Read-only file system") {
			t.Errorf("%s: %v %q; want a read-only failure", script, err, stderr)
		}
	}
}

func openWrite(p string, flag int) error {
	f, err := os.OpenFile(p, flag, 0)
	if err == nil {
		f.Close()
	}
	return err
}
