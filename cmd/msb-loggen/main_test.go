package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// build compiles the real command once per test binary.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "msb-loggen")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestHelpOnStdout(t *testing.T) {
	bin := build(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "-help")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("-help: %v (stderr %q)", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "-live") || !strings.Contains(stdout.String(), "examples:") || stderr.Len() != 0 {
		t.Errorf("-help: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

func TestBadFlagIsOneLine(t *testing.T) {
	bin := build(t)
	for _, args := range [][]string{{"-bogus"}, {"-home", t.TempDir(), "-size", "lots"}, {"-home", t.TempDir(), "-live", "-3"}, {"-home", t.TempDir(), "extra"}, {"-home", t.TempDir(), "-sessions", "-1"}, {"-home", t.TempDir(), "-sessions", "3", "-interleave", "0"}} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: err %v, want exit 2", args, err)
		}
		if stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: stdout %q, stderr %q: want one line on stderr", args, stdout.String(), stderr.String())
		}
	}
}

// TestLiveRotatesAndStopsOnSIGTERM runs the live mode until exec.log has
// rotated twice, then stops it with SIGTERM: it exits 0 and every exec line
// it wrote is whole.
func TestLiveRotatesAndStopsOnSIGTERM(t *testing.T) {
	bin := build(t)
	home := t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "-home", home, "-name", "live", "-live", "2000", "-rotate", "4KiB")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dir := msbwriter.LogsDir(home, "live")
	deadline := time.Now().Add(20 * time.Second)
	for !exists(filepath.Join(dir, msbwriter.ChainName(2))) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no second rotation within 20 s; stderr %q", stderr.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not synchronising
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v; stderr %q", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "writing "+dir+" live") {
		t.Errorf("stdout %q", stdout.String())
	}
	for i := 0; i < msbwriter.ChainLen; i++ {
		b, err := os.ReadFile(filepath.Join(dir, msbwriter.ChainName(i)))
		if err != nil {
			continue
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s ends in a partial line", msbwriter.ChainName(i))
		}
		if len(b) > 4<<10 {
			t.Errorf("%s holds %d bytes, past -rotate 4KiB", msbwriter.ChainName(i), len(b))
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestSessionsFlag: -sessions N -interleave K writes ids 1..N, the same
// bytes as msbwriter with those options.
func TestSessionsFlag(t *testing.T) {
	bin := build(t)
	home, lib := t.TempDir(), t.TempDir()
	out, err := exec.Command(bin, "-home", home, "-name", "s", "-size", "4MiB", "-rotate", "1MiB", "-sessions", "30", "-interleave", "3").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	opts := msbwriter.CorpusOptions{TotalBytes: 4 << 20, RotateAt: 1 << 20, Seed: 1, Start: msbwriter.DefaultCorpusStart, Sessions: 30, Interleave: 3}
	if err := msbwriter.GenerateCorpus(lib, "s", opts); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for i := range msbwriter.ChainLen {
		name := msbwriter.ChainName(i)
		a, errA := os.ReadFile(filepath.Join(msbwriter.LogsDir(home, "s"), name))
		b, errB := os.ReadFile(filepath.Join(msbwriter.LogsDir(lib, "s"), name))
		if (errA == nil) != (errB == nil) || !bytes.Equal(a, b) {
			t.Fatalf("%s: the command and msbwriter differ (%v, %v)", name, errA, errB)
		}
		all = append(all, a...)
	}
	for _, id := range []string{`"id":1}`, `"id":30}`} {
		if !bytes.Contains(all, []byte(id)) {
			t.Fatalf("no %s in the exec chain", id)
		}
	}
}
