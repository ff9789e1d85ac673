package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDepsStep: .ci/deps, which make test runs first, prints nothing when
// every package of .ci/packages is installed; as a normal user with one
// missing, it prints the one apt-get command and fails; a malformed line
// of the list is named. It runs a copy of the script, as nobody, over
// lists made for the test.
func TestDepsStep(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the script as nobody")
	}
	dir, err := os.MkdirTemp("", "msb-logfs-deps-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ci := filepath.Join(dir, ".ci")
	if err := os.MkdirAll(ci, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	script := mustRead(t, filepath.Join("..", ".ci", "deps"))
	if err := os.WriteFile(filepath.Join(ci, "deps"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(list string) (string, string, error) {
		if err := os.WriteFile(filepath.Join(ci, "packages"), []byte(list), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("timeout", "30", "bash", filepath.Join(ci, "deps"), "debian_packages")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	present := "# present\ncoreutils tail\nbash      /bin/bash\n\n"
	if out, errOut, err := run(present); err != nil || out+errOut != "" {
		t.Errorf("all present: %v, output %q %q; want silence and status 0", err, out, errOut)
	}
	missing := present + "no-such-pkg no-such-command-" + strings.ReplaceAll(time.Now().Format("150405.000"), ".", "") + "\nother-pkg /no/such/file\n"
	out, errOut, err := run(missing)
	if exitCode(err) != 1 || out != "" || errOut != "make test needs Debian packages that are not installed; run:\n  sudo apt-get install -y no-such-pkg other-pkg\n" {
		t.Errorf("missing as nobody: %v, stdout %q, stderr %q; want status 1 and the one apt-get command", err, out, errOut)
	}
	for _, bad := range []string{"lonely-pkg", "pkg proof extra"} {
		_, errOut, err = run(present + bad + "\n")
		if exitCode(err) != 1 || errOut != ".ci/packages: bad line \""+bad+"\": want <debian-package> <proof>\n" {
			t.Errorf("bad line %q: %v, stderr %q", bad, err, errOut)
		}
	}
}
