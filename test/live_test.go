package test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a program running in a private tmux server.
type tmuxSession struct {
	t      *testing.T
	socket string
}

// startTmux runs script (a shell command line) in a new tmux server of
// its own, on a 200×50 terminal.
func startTmux(t *testing.T, script string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, socket: filepath.Join(t.TempDir(), "tmux")}
	if out, err := s.tmux("new-session", "-d", "-x", "200", "-y", "50", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = s.tmux("kill-server") })
	return s
}

func (s *tmuxSession) tmux(args ...string) ([]byte, error) {
	return exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
}

// screen returns what the terminal shows now ("" once the session ended).
func (s *tmuxSession) screen() string {
	out, err := s.tmux("capture-pane", "-p")
	if err != nil {
		return ""
	}
	return string(out)
}

// running reports whether the session still runs.
func (s *tmuxSession) running() bool {
	_, err := s.tmux("has-session")
	return err == nil
}

// lnavEnv is the environment prefix lnav runs with: a home of its own for
// its configuration, and a terminal it knows.
func lnavEnv(t *testing.T) string {
	return "env HOME=" + q(t.TempDir()) + " TERM=xterm-256color "
}

// TestLnavLive: lnav on merged.live shows the lines, shows a line appended
// later within 2 s (lnav reads to end of file, then polls the size), and
// quits on q.
func TestLnavLive(t *testing.T) {
	home, w := quietBox(t, 50)
	m := mount(t, home)
	lnav := startTmux(t, lnavEnv(t)+"lnav "+q(m.path("box", "merged.live")))
	waitFor(t, 10*time.Second, "lnav to show the lines", func() bool {
		return strings.Contains(lnav.screen(), "line 000049")
	})
	mark(t, w, "LIVE-MARKER")
	took := waitFor(t, 10*time.Second, "lnav to show the appended line", func() bool {
		return strings.Contains(lnav.screen(), "LIVE-MARKER")
	})
	if took > 2*time.Second {
		t.Errorf("lnav showed the appended line after %v, want within 2 s", took)
	}
	t.Logf("lnav showed an appended line after %v", took)
	if out, err := lnav.tmux("send-keys", "q"); err != nil {
		t.Fatalf("send q: %v: %s", err, out)
	}
	waitFor(t, 10*time.Second, "lnav to quit on q", func() bool { return !lnav.running() })
}

// TestLnavFollow: what docs/filesystem.md says of lnav on a .follow file.
// With a small view it shows nothing and ignores q (it waits for an end of
// file that never comes); with a view of a few hundred KiB it shows the
// lines and quits on q; headless, lnav -n never ends. If a newer lnav
// changes this, the doc must change with it.
func TestLnavFollow(t *testing.T) {
	home, w := quietBox(t, 50)
	m := mount(t, home)
	small := startTmux(t, lnavEnv(t)+"lnav "+q(m.path("box", "merged.follow")))
	time.Sleep(3 * time.Second)
	if sc := small.screen(); strings.Contains(sc, "line 0000") {
		t.Fatalf("lnav showed a small .follow view; update docs/filesystem.md:\n%s", sc)
	}
	if out, err := small.tmux("send-keys", "q"); err != nil {
		t.Fatalf("send q: %v: %s", err, out)
	}
	time.Sleep(2 * time.Second)
	if !small.running() {
		t.Fatal("lnav quit on q on a small .follow view; update docs/filesystem.md")
	}

	writeLines(t, w, 50, 3000)
	large := startTmux(t, lnavEnv(t)+"lnav "+q(m.path("box", "merged.follow")))
	waitFor(t, 10*time.Second, "lnav to show a large .follow view", func() bool {
		return strings.Contains(large.screen(), "line 002")
	})
	if out, err := large.tmux("send-keys", "q"); err != nil {
		t.Fatalf("send q: %v: %s", err, out)
	}
	waitFor(t, 10*time.Second, "lnav to quit on q", func() bool { return !large.running() })

	cmd := exec.Command("timeout", "5", "lnav", "-n", "-c", ";SELECT count(*) FROM all_logs", m.path("box", "merged.follow"))
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 124 {
		t.Fatalf("lnav -n on merged.follow: %v: %s; want it still reading when timeout stops it (exit 124)", err, out)
	}
}

// TestLnavLiveSQL: lnav -n with a query reads merged.live to its end and
// returns, counting every line.
func TestLnavLiveSQL(t *testing.T) {
	home, _ := quietBox(t, 300)
	m := mount(t, home)
	want := len(lines(mustRead(t, m.path("box", "merged"))))
	cmd := exec.Command("timeout", "60", "lnav", "-n", "-c", ";SELECT count(*) FROM all_logs", m.path("box", "merged.live"))
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lnav -n: %v: %s", err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		t.Fatalf("lnav -n printed nothing")
	}
	if got, err := strconv.Atoi(fields[len(fields)-1]); err != nil || got != want {
		t.Fatalf("lnav counted %q, want %d lines", out, want)
	}
}

// TestTailLive: tail -f on a live file prints the last lines, then each
// appended line.
func TestTailLive(t *testing.T) {
	home, w := quietBox(t, 50)
	m := mount(t, home)
	tail := startReader(t, "tail", "-f", m.path("box", "stdout.live"))
	tail.until(t, "line 000049", 10*time.Second)
	mark(t, w, "TAIL-LIVE")
	if took := tail.until(t, "TAIL-LIVE", 5*time.Second); took > 2*time.Second {
		t.Errorf("tail -f showed the appended line after %v, want within 2 s", took)
	}
}

// TestPollLive: a Go program that reads to end of file, then polls the size
// (fstat) and reads what was added, sees every appended line once.
func TestPollLive(t *testing.T) {
	home, w := quietBox(t, 20)
	m := mount(t, home)
	f, err := os.Open(m.path("box", "stdout.live"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got bytes.Buffer
	readToEnd := func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf) // a read at the end returns io.EOF at once
			got.Write(buf[:n])
			if n == 0 || err != nil {
				return
			}
		}
	}
	readToEnd()
	if n := len(lines(got.Bytes())); n != 20 {
		t.Fatalf("first read: %d lines, want 20", n)
	}
	for i := range 5 {
		mark(t, w, "poll "+strconv.Itoa(i))
		waitFor(t, 5*time.Second, "the size to grow", func() bool {
			fi, err := f.Stat()
			return err == nil && fi.Size() > int64(got.Len())
		})
		readToEnd()
	}
	ls := lines(got.Bytes())
	if len(ls) != 25 || ls[20] != "poll 0" || ls[24] != "poll 4" {
		t.Fatalf("lines after polling: %d, last %q", len(ls), ls[len(ls)-1])
	}
}
