package test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestParkedSandboxThroughMount: a sandbox that was read and let go by the
// idle release is stat-ed from its parked summary, opening none of its log
// files, and still shows at the next stat and open every change made
// meanwhile: a rewrite in place of the same size with its mtime put back
// (only its change time moves), an append, a rotation.
func TestParkedSandboxThroughMount(t *testing.T) {
	home := t.TempDir()
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: 1, Word: "needle"})
	if err != nil {
		t.Fatal(err)
	}
	name := names[0]
	logs := filepath.Join(sandboxDir(home, name), "logs")
	time.Sleep(engine.RacyMargin) // written before the mount reads it, as an idle sandbox is
	m := mount(t, home)
	pid := m.cmd.Process.Pid
	logFDs := func() int {
		n := 0
		for _, target := range fdTargets(t, pid) {
			if strings.HasPrefix(target, logs+"/") {
				n++
			}
		}
		return n
	}
	views := []struct {
		file string
		view engine.View
	}{{"stdout", engine.ViewStdout}, {"stderr", engine.ViewStderr}, {"merged", engine.ViewMerged}, {"system", engine.ViewSystem}}
	check := func(what string) {
		t.Helper()
		time.Sleep(2 * engine.HoldFor) // a state shown is held that long (an open after a stat: twice)
		for _, v := range views {
			p := m.path(name, v.file)
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			want := render(t, home, name, v.view)
			if fi.Size() != int64(len(want)) {
				t.Errorf("%s: stat of %s says %d bytes, want %d", what, v.file, fi.Size(), len(want))
			}
			if got := mustRead(t, p); !bytes.Equal(got, want) {
				t.Errorf("%s: %s reads %d bytes %.200q, want %d bytes %.200q", what, v.file, len(got), got, len(want), want)
			}
		}
	}
	letGo := func() {
		t.Helper()
		waitFor(t, 10*time.Second, "the idle release to close the sandbox's files", func() bool { return logFDs() == 0 })
	}
	check("first read")
	letGo()
	for _, v := range views {
		if _, err := os.Stat(m.path(name, v.file)); err != nil {
			t.Fatal(err)
		}
	}
	if n := logFDs(); n != 0 {
		t.Errorf("stats of an unchanged, idle sandbox opened %d of its log files", n)
	}

	exec := filepath.Join(logs, engine.ExecLogName)
	old, err := os.ReadFile(exec)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(exec)
	if err != nil {
		t.Fatal(err)
	}
	rewritten := bytes.Replace(old, []byte(`"stdout"`), []byte(`"stderr"`), 1)
	if bytes.Equal(rewritten, old) {
		t.Fatal("exec.log has no stdout chunk to rewrite")
	}
	if err := os.WriteFile(exec, rewritten, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(exec, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	check("after a rewrite in place of the same size and mtime")

	letGo()
	w, err := msbwriter.Create(home, name, msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Exec(msbwriter.Chunk{Time: time.Now(), Source: "stdout", Data: []byte("appended after the release\n")}); err != nil {
		t.Fatal(err)
	}
	check("after an append")

	letGo()
	if err := w.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := w.Exec(msbwriter.Chunk{Time: time.Now(), Source: "stdout", Data: []byte("after the rotation\n")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	check("after a rotation")
}
