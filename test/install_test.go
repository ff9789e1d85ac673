package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
)

// These tests install msb-logfs the way a system does (make install,
// mount(8), fstab, systemd's notify socket) and use it with the real tools.

// makeInstall runs `make install` of this repository with vars
// (PREFIX=…, DESTDIR=…), building into a temporary directory.
func makeInstall(t *testing.T, vars ...string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-C", root, "install", "BIN=" + t.TempDir()}, vars...)
	if out, err := exec.Command("make", args...).CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestMakeInstall: make install DESTDIR=… PREFIX=/usr puts the binary,
// the man page, the completions and the unit under DESTDIR; man renders
// the page, and each shell loads its completion and completes a command
// and a flag by asking the installed binary.
func TestMakeInstall(t *testing.T) {
	dest := t.TempDir()
	makeInstall(t, "DESTDIR="+dest, "PREFIX=/usr")
	files := map[string]os.FileMode{
		"usr/bin/msb-logfs":                                  0o755,
		"usr/share/man/man1/msb-logfs.1":                     0o644,
		"usr/share/bash-completion/completions/msb-logfs":    0o644,
		"usr/share/zsh/site-functions/_msb-logfs":            0o644,
		"usr/share/fish/vendor_completions.d/msb-logfs.fish": 0o644,
		"usr/lib/systemd/system/msb-logfs.service":           0o644,
	}
	for name, mode := range files {
		fi, err := os.Stat(filepath.Join(dest, name))
		if err != nil || fi.Mode().Perm() != mode || fi.Size() == 0 {
			t.Errorf("%s: %v, want a non-empty file of mode %v", name, err, mode)
		}
	}
	if unit := string(mustRead(t, filepath.Join(dest, "usr/lib/systemd/system/msb-logfs.service"))); !strings.Contains(unit, "ExecStart=/usr/bin/msb-logfs mount ") {
		t.Errorf("the unit does not run the installed binary:\n%s", unit)
	}
	page := filepath.Join(dest, "usr/share/man/man1/msb-logfs.1")
	man := sh(t, 30*time.Second, "MANPAGER=cat MANWIDTH=100 man -l "+q(page))
	for _, want := range []string{"msb-logfs - read microsandbox", "<home>/sandboxes/<name>/logs", "--log-format",
		"msb-logfs unmount [options] MOUNTPOINT", "Unmounts MOUNTPOINT.", "mount -t fuse.msb-logfs"} {
		if !strings.Contains(man, want) {
			t.Errorf("man -l: no %q in\n%s", want, man)
		}
	}
	if _, warn, err := shErr(30*time.Second, "groff -k -man -z -ww "+q(page)); err != nil || warn != "" {
		t.Errorf("groff: %v: %s", err, warn)
	}
	checkManExamples(t, page, filepath.Join(dest, "usr/bin/msb-logfs"))
	checkCompletions(t, dest)
}

// checkManExamples: each example line of `msb-logfs --help` is a line of
// the page as man renders it 80 columns wide, neither filled nor justified.
func checkManExamples(t *testing.T, page, bin string) {
	t.Helper()
	man := sh(t, 30*time.Second, "MANPAGER=cat MANWIDTH=80 man -l "+q(page))
	rendered := map[string]bool{}
	for _, l := range lines([]byte(man)) {
		rendered[strings.TrimSpace(l)] = true
	}
	help := sh(t, 30*time.Second, q(bin)+" --help")
	_, examples, ok := strings.Cut(help, "Examples:\n")
	if !ok {
		t.Fatalf("--help has no examples:\n%s", help)
	}
	n := 0
	for _, l := range lines([]byte(examples)) {
		if !strings.HasPrefix(l, "   ") {
			break
		}
		n++
		if !rendered[strings.TrimSpace(l)] {
			t.Errorf("man page: the example %q is not a line of its own:\n%s", strings.TrimSpace(l), man)
		}
	}
	if n < 3 {
		t.Errorf("--help: %d example lines", n)
	}
}

// TestMakeUninstall: make uninstall removes every file make install put
// under DESTDIR, and the directories it made that are left empty; one
// that holds another package's file stays, with it.
func TestMakeUninstall(t *testing.T) {
	dest := t.TempDir()
	makeInstall(t, "DESTDIR="+dest, "PREFIX=/usr")
	other := filepath.Join(dest, "usr/share/zsh/site-functions/_other")
	if err := os.WriteFile(other, []byte("#compdef other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("make", "-C", root, "uninstall", "DESTDIR="+dest, "PREFIX=/usr").CombinedOutput(); err != nil {
		t.Fatalf("make uninstall: %v\n%s", err, out)
	}
	var left []string
	_ = filepath.Walk(dest, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != dest {
			rel, _ := filepath.Rel(dest, p)
			left = append(left, rel)
		}
		return nil
	})
	want := []string{"usr", "usr/bin", "usr/lib", "usr/share", "usr/share/man", "usr/share/man/man1",
		"usr/share/zsh", "usr/share/zsh/site-functions", "usr/share/zsh/site-functions/_other"}
	if strings.Join(left, " ") != strings.Join(want, " ") {
		t.Errorf("left after make uninstall:\n%s\nwant:\n%s", strings.Join(left, "\n"), strings.Join(want, "\n"))
	}
}

// checkCompletions loads each shell's installed completion and completes
// "msb-logfs mo" and "msb-logfs mount --all" with the binary of dest.
func checkCompletions(t *testing.T, dest string) {
	t.Helper()
	path := "PATH=" + q(filepath.Join(dest, "usr/bin")) + ":$PATH "
	share := filepath.Join(dest, "usr/share")
	bash := path + "bash -c 'source " + q(share+"/bash-completion/completions/msb-logfs") + ` || exit 1
		COMP_WORDS=(msb-logfs mo); COMP_CWORD=1; _msb_logfs_complete; echo "${COMPREPLY[*]}"
		COMP_WORDS=(msb-logfs mount --all); COMP_CWORD=2; _msb_logfs_complete; echo "${COMPREPLY[*]}"'`
	if got := sh(t, 30*time.Second, bash); got != "mount\n--allow-other\n" {
		t.Errorf("bash completion: %q, want mount and --allow-other", got)
	}
	zsh := path + "zsh -c 'autoload -U compinit && compinit -u && source " + q(share+"/zsh/site-functions/_msb-logfs") + ` && print ${_comps[msb-logfs]}'`
	if got := sh(t, 30*time.Second, zsh); got != "_msb_logfs_complete\n" {
		t.Errorf("zsh completion: %q, want _msb_logfs_complete registered", got)
	}
	fish := path + "fish -c 'source " + q(share+"/fish/vendor_completions.d/msb-logfs.fish") + `; complete -C"msb-logfs mo"; complete -C"msb-logfs mount --all"'`
	if got := sh(t, 30*time.Second, fish); !strings.HasPrefix(got, "mount\t") || !strings.Contains(got, "--allow-other\t") {
		t.Errorf("fish completion: %q, want mount and --allow-other", got)
	}
	checkCompletionsFound(t, share)
}

// checkCompletionsFound: the shells find the installed scripts where they
// look, with share as the data directory (XDG_DATA_DIRS, as for
// /usr/local/share and /usr/share): bash through the bash-completion
// package's loader, which Debian's default ~/.bashrc sources; fish by
// itself. Nothing is sourced by hand.
func checkCompletionsFound(t *testing.T, share string) {
	t.Helper()
	xdg := "XDG_DATA_DIRS=" + q(share) + " "
	bash := xdg + "bash -c '. /usr/share/bash-completion/bash_completion && __load_completion msb-logfs; complete -p msb-logfs'"
	if got := sh(t, 30*time.Second, bash); got != "complete -o bashdefault -o default -F _msb_logfs_complete msb-logfs\n" {
		t.Errorf("bash-completion's loader: %q, want our completion loaded", got)
	}
	fish := xdg + "fish -c 'complete -C\"msb-logfs mo\"'"
	if got := sh(t, 30*time.Second, "PATH="+q(filepath.Join(filepath.Dir(share), "bin"))+":$PATH "+fish); !strings.HasPrefix(got, "mount\t") {
		t.Errorf("fish with XDG_DATA_DIRS=%s: %q, want mount completed", share, got)
	}
}

// notifySocket is a systemd notify socket: a unixgram socket the test
// reads the service's states from.
type notifySocket struct {
	path string
	conn *net.UnixConn
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notifySocket{path: path, conn: conn}
}

// next returns the next state sent, failing after d.
func (n *notifySocket) next(t *testing.T, d time.Duration) string {
	t.Helper()
	if err := n.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	k, _, err := n.conn.ReadFromUnix(buf)
	if err != nil {
		t.Fatalf("no notification within %v: %v", d, err)
	}
	return string(buf[:k])
}

// startNotified starts argv with NOTIFY_SOCKET set and waits for READY=1,
// then checks the mount at dir answers: systemd starts what comes after
// the service at READY=1.
func startNotified(t *testing.T, n *notifySocket, dir string, argv ...string) (*exec.Cmd, chan error) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+n.path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if running(cmd.Process.Pid) {
			_ = cmd.Process.Kill()
		}
		_ = syscall.Unmount(dir, syscall.MNT_DETACH)
	})
	if got := n.next(t, 15*time.Second); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1; stderr: %s", got, stderr)
	}
	if !isMounted(dir) {
		t.Fatalf("READY=1 before %s is mounted", dir)
	}
	if got := sh(t, 5*time.Second, "ls "+q(dir)); got != "box\n" {
		t.Fatalf("ls right after READY=1: %q", got)
	}
	return cmd, exited
}

// waitExit0 waits for a mount process to exit with status 0.
func waitExit0(t *testing.T, exited chan error, d time.Duration) {
	t.Helper()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("mount process: %v", err)
		}
	case <-time.After(d):
		t.Fatalf("mount process still running after %v", d)
	}
}

// TestSystemdNotify: with NOTIFY_SOCKET set, the mount sends READY=1 once
// the mount answers, and STOPPING=1 at SIGTERM, then exits 0 unmounted.
func TestSystemdNotify(t *testing.T) {
	home := corpusHome(t, "box", 32<<10)
	dir := filepath.Join(t.TempDir(), "mnt")
	n := listenNotify(t)
	cmd, exited := startNotified(t, n, dir, binary, "mount", "--home", home, dir)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := n.next(t, 5*time.Second); got != "STOPPING=1" {
		t.Fatalf("after SIGTERM: %q, want STOPPING=1", got)
	}
	waitExit0(t, exited, 5*time.Second)
	if isMounted(dir) {
		t.Fatal("still mounted after SIGTERM")
	}
}

// TestSystemdUnit: the installed unit passes systemd-analyze verify, and its
// ExecStart and ExecStop, run as systemd runs them (its Environment= lines,
// a notify socket), mount with READY=1 and unmount with STOPPING=1 and
// status 0.
func TestSystemdUnit(t *testing.T) {
	prefix := t.TempDir()
	makeInstall(t, "PREFIX="+prefix)
	unitPath := filepath.Join(prefix, "lib/systemd/system/msb-logfs.service")
	if out, warn, err := shErr(30*time.Second, "systemd-analyze verify --man=no "+q(unitPath)); err != nil || out+warn != "" {
		t.Errorf("systemd-analyze verify: %v: %s%s", err, out, warn)
	}
	unit := string(mustRead(t, unitPath))
	if !strings.Contains(unit, "\nType=notify\n") || !strings.Contains(unit, "\nRestart=on-failure\n") {
		t.Errorf("unit is not Type=notify with Restart=on-failure:\n%s", unit)
	}
	home := corpusHome(t, "box", 32<<10)
	dir := filepath.Join(t.TempDir(), "mnt")
	env := map[string]string{"MSB_HOME": home, "MSB_LOGFS_MOUNTPOINT": dir}
	n := listenNotify(t)
	_, exited := startNotified(t, n, dir, unitCommand(t, unit, "ExecStart", env)...)
	stop := unitCommand(t, unit, "ExecStop", env)
	if out, err := exec.Command(stop[0], stop[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("ExecStop: %v: %s", err, out)
	}
	if got := n.next(t, 5*time.Second); got != "STOPPING=1" {
		t.Fatalf("after ExecStop: %q, want STOPPING=1", got)
	}
	waitExit0(t, exited, 5*time.Second)
}

// unitCommand returns the argv of key (ExecStart, ExecStop) of unit, with
// ${VAR} replaced from env, as systemd splits and expands it.
func unitCommand(t *testing.T, unit, key string, env map[string]string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatalf("no %s= in the unit", key)
	}
	argv := strings.Fields(m[1])
	for i, a := range argv {
		argv[i] = os.Expand(a, func(k string) string { return env[k] })
	}
	return argv
}

// TestLogFormat: the mount logs its lifecycle at info level on stderr, in
// logfmt by default and in JSON with --log-format json; another format is
// a one-line usage error.
func TestLogFormat(t *testing.T) {
	home := corpusHome(t, "box", 32<<10)
	m := mount(t, home)
	if _, err := m.signal(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	logfmt := m.stderr.String()
	for _, want := range []string{"level=INFO msg=mounted mountpoint=" + m.dir + " home=" + home, "level=INFO msg=unmounted mountpoint=" + m.dir} {
		if !strings.Contains(logfmt, want) {
			t.Errorf("logfmt stderr has no %q:\n%s", want, logfmt)
		}
	}

	m = mount(t, home, "--log-format", "json")
	if _, err := m.signal(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, l := range lines([]byte(m.stderr.String())) {
		var rec struct{ Level, Msg, Mountpoint string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("stderr line is not JSON: %q: %v", l, err)
		}
		if rec.Level == "INFO" && rec.Mountpoint == m.dir {
			msgs = append(msgs, rec.Msg)
		}
	}
	if strings.Join(msgs, ",") != "mountpoint created,mounted,unmounted,mountpoint removed" {
		t.Errorf("JSON info lines for the mountpoint: %q, want mountpoint created, mounted, unmounted, mountpoint removed:\n%s", msgs, m.stderr)
	}

	_, stderr, err := shErr(10*time.Second, q(binary)+" mount --log-format xml --home "+q(home)+" "+q(t.TempDir()))
	if exitCode(err) != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--log-format") {
		t.Errorf("--log-format xml: %v, stderr %q; want status 2 and one line", err, stderr)
	}
}

// TestMountHelper: mount(8) with -t fuse.msb-logfs, and a line of an fstab
// file, run mount.fuse3, which runs `msb-logfs HOME MNT -o OPTS` from the
// standard PATH: the mount is ready when mount(8) returns, has the
// options, shows the sandbox's logs, and umount ends the background
// process. It runs in a private mount namespace whose /usr/local/bin holds
// the binary under test.
func TestMountHelper(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, "/dev/fuse is missing")
	}
	if os.Geteuid() != 0 {
		requireFUSE(t, "mount(8) of a fuse type needs root")
	}
	home := corpusHome(t, "box", 32<<10)
	tmp := t.TempDir()
	dir, fstab, copyOut := filepath.Join(tmp, "mnt"), filepath.Join(tmp, "fstab"), filepath.Join(tmp, "stdout")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("%s %s fuse.msb-logfs noauto,nofail,_netdev,x-systemd.automount,list_all 0 0\n", home, dir)
	if err := os.WriteFile(fstab, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`set -e
M=%[3]s
mount --bind %[1]s /usr/local/bin
show() { pid=$(printf '%%s\n' "$1" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p'); echo "pid $pid"; tr '\0' ' ' </proc/$pid/cmdline; echo; grep -F " $M " /proc/self/mountinfo; }
out=$(mount -t fuse.msb-logfs %[2]s "$M" -o allow_other,cache_size=1GiB)
show "$out"
cat "$M/box/stdout" > %[4]s
ls "$M/box" | tr '\n' ' '; echo
umount "$M"
out=$(mount --fstab %[5]s "$M")
show "$out"
ls "$M/box" | tr '\n' ' '; echo
umount "$M"
`, q(filepath.Dir(binary)), q(home), q(dir), q(copyOut), q(fstab))
	out := sh(t, 60*time.Second, "unshare -m --propagation private bash -c "+q(script))
	checkMountHelper(t, out, dir)
	if got, want := mustRead(t, copyOut), render(t, home, "box", engine.ViewStdout); !bytes.Equal(got, want) {
		t.Errorf("stdout through mount(8): %d bytes, want %d", len(got), len(want))
	}
}

// checkMountHelper checks the output of TestMountHelper's script: two
// mounts, with their options, each one's process gone after umount.
func checkMountHelper(t *testing.T, out, dir string) {
	t.Helper()
	var pids []int
	for _, l := range lines([]byte(out)) {
		var pid int
		if _, err := fmt.Sscanf(l, "pid %d", &pid); err == nil {
			pids = append(pids, pid)
		}
	}
	if len(pids) != 2 {
		t.Fatalf("want two mount processes, got %v in:\n%s", pids, out)
	}
	for _, want := range []string{
		"--cache-size 1GiB ", "--allow-other -- " + dir, // mount -t … -o …
		"--list-all -- " + dir, // the fstab line
		" - fuse.msb-logfs msb-logfs ", "allow_other",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	var listings []string
	for _, l := range lines([]byte(out)) {
		if strings.HasPrefix(l, "cursor ") {
			listings = append(listings, l)
		}
	}
	if len(listings) != 2 || strings.Contains(listings[0], ".follow") || !strings.Contains(listings[1], "merged.follow") {
		t.Errorf("want the follow files listed by the fstab mount (list_all) only:\n%s", out)
	}
	for _, pid := range pids {
		waitFor(t, 5*time.Second, fmt.Sprintf("mount process %d to exit after umount", pid), func() bool { return !running(pid) })
	}
}
