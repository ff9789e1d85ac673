package test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestShipUnit: make install writes msb-logfs-ship.service (verified by
// systemd-analyze); its ExecStart, run as systemd would, sends READY=1,
// ships into StateDirectory, and at SIGTERM sends STOPPING=1 and exits 0.
func TestShipUnit(t *testing.T) {
	prefix := t.TempDir()
	makeInstall(t, "PREFIX="+prefix)
	unitPath := filepath.Join(prefix, "lib/systemd/system/msb-logfs-ship.service")
	if out, warn, err := shErr(30*time.Second, "systemd-analyze verify --man=no "+q(unitPath)); err != nil || out+warn != "" {
		t.Errorf("systemd-analyze verify: %v: %s%s", err, out, warn)
	}
	unit := string(mustRead(t, unitPath))
	for _, want := range []string{"\nType=notify\n", "\nRestart=on-failure\n", "\nStateDirectory=msb-logfs/ship\n", "ExecStart=" + prefix + "/bin/msb-logfs ship "} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit has no %q:\n%s", want, unit)
		}
	}
	var got atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	defer sink.Close()
	home := corpusHome(t, "box", 32<<10)
	state := filepath.Join(t.TempDir(), "state")
	env := map[string]string{"MSB_HOME": home, "MSB_LOGFS_SHIP_TO": sink.URL, "STATE_DIRECTORY": state}
	argv := unitCommand(t, unit, "ExecStart", env)
	n := listenNotify(t)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+n.path)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if running(cmd.Process.Pid) {
			cmd.Process.Kill()
		}
	}()
	if s := n.next(t, 15*time.Second); s != "READY=1" {
		t.Fatalf("first notification %q, want READY=1; stderr: %s", s, stderr)
	}
	waitFor(t, 15*time.Second, "the checkpoint", func() bool {
		_, err := os.Stat(filepath.Join(state, "box.checkpoint"))
		return err == nil
	})
	cmd.Process.Signal(syscall.SIGTERM)
	if s := n.next(t, 5*time.Second); s != "STOPPING=1" {
		t.Fatalf("after SIGTERM: %q, want STOPPING=1", s)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("ship: %v\n%s", err, stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("ship did not exit after SIGTERM")
	}
	if got.Load() == 0 {
		t.Error("nothing was sent")
	}
}
