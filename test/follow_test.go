package test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// reader is a tool reading a follow file, its lines collected as they come.
type reader struct {
	cmd    *exec.Cmd
	lines  chan string
	exited chan struct{}
	err    error
}

// startReader runs name with args and collects its stdout lines.
func startReader(t *testing.T, name string, args ...string) *reader {
	t.Helper()
	r := &reader{cmd: exec.Command(name, args...), lines: make(chan string, 1<<16), exited: make(chan struct{})}
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		r.err = r.cmd.Wait()
		close(r.lines)
		close(r.exited)
	}()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.exited
	})
	return r
}

// next returns the next line, failing after d.
func (r *reader) next(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-r.lines:
		if !ok {
			t.Fatalf("%s ended (%v) while a line was expected", r.cmd.Path, r.err)
		}
		return l
	case <-time.After(d):
		t.Fatalf("no line from %s within %v", r.cmd.Path, d)
	}
	return ""
}

// until reads lines until one contains want; it returns how long that took.
func (r *reader) until(t *testing.T, want string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		left := d - time.Since(start)
		if left <= 0 {
			t.Fatalf("%q not seen within %v", want, d)
		}
		if strings.Contains(r.next(t, left), want) {
			return time.Since(start)
		}
	}
}

// waitExit waits up to d for the reader to exit.
func (r *reader) waitExit(d time.Duration) (time.Duration, error) {
	start := time.Now()
	select {
	case <-r.exited:
		return time.Since(start), r.err
	case <-time.After(d):
		return time.Since(start), fmt.Errorf("%s still running after %v", r.cmd.Path, d)
	}
}

// quietBox makes a home with sandbox box of n stdout lines and returns it
// with its writer.
func quietBox(t *testing.T, n int) (string, *msbwriter.Sandbox) {
	t.Helper()
	home := t.TempDir()
	w, err := msbwriter.Create(home, "box", msbwriter.Options{RotateAt: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	writeLines(t, w, 0, n)
	return home, w
}

// mark appends one stdout line holding text.
func mark(t *testing.T, w *msbwriter.Sandbox, text string) {
	t.Helper()
	if err := w.Exec(msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: []byte(text + "\n"), ID: 2, HasID: true}); err != nil {
		t.Fatal(err)
	}
}

func TestTailFollow(t *testing.T) {
	home, w := quietBox(t, 50)
	m := mount(t, home)
	tail := startReader(t, "tail", "-f", m.path("box", "merged.follow"))
	want := lines(render(t, home, "box", engine.ViewMerged))
	for i, l := range want[len(want)-10:] {
		if got := tail.next(t, 5*time.Second); got != l {
			t.Fatalf("tail line %d: %q, want %q", i, got, l)
		}
	}
	var all []time.Duration
	for i := range 6 {
		// Appends at random moments of tail's one-second poll.
		time.Sleep(time.Duration(rand.Int64N(int64(time.Second))))
		text := fmt.Sprintf("tail-mark-%d", i)
		mark(t, w, text)
		all = append(all, tail.until(t, text, 2*time.Second).Round(time.Millisecond))
	}
	slices.Sort(all)
	t.Logf("tail -f latencies %v: median %v, worst %v", all, all[len(all)/2], all[len(all)-1])
}

func TestCatFollow(t *testing.T) {
	home, w := quietBox(t, 50)
	m := mount(t, home)
	cat := startReader(t, "cat", m.path("box", "merged.follow"))
	want := lines(render(t, home, "box", engine.ViewMerged))
	for i, l := range want {
		if got := cat.next(t, 5*time.Second); got != l {
			t.Fatalf("cat line %d: %q, want %q", i, got, l)
		}
	}
	var worst time.Duration
	for i := range 20 {
		text := fmt.Sprintf("cat-mark-%d", i)
		mark(t, w, text)
		worst = max(worst, cat.until(t, text, 200*time.Millisecond))
	}
	t.Logf("cat follow: worst latency of 20 appends %v", worst)
}

// TestNonblockEAGAIN reads at the end of a follow file with O_NONBLOCK, set
// at open and with fcntl: EAGAIN, not a block.
func TestNonblockEAGAIN(t *testing.T) {
	home, w := quietBox(t, 10)
	m := mount(t, home)
	p := m.path("box", "stdout.follow")
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	buf := make([]byte, 1<<16)
	total := 0
	for {
		n, err := syscall.Read(fd, buf)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil || n == 0 {
			t.Fatalf("read: %d, %v; want data then EAGAIN", n, err)
		}
		total += n
	}
	if want := len(render(t, home, "box", engine.ViewStdout)); total != want {
		t.Fatalf("read %d bytes before EAGAIN, want %d", total, want)
	}
	mark(t, w, "more")
	waitFor(t, 2*time.Second, "the append after EAGAIN", func() bool {
		n, _ := syscall.Read(fd, buf)
		return n > 0 && bytes.Equal(buf[:n], []byte("more\n"))
	})

	fd2, err := syscall.Open(p, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd2)
	if _, err := syscall.Seek(fd2, 0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetNonblock(fd2, true); err != nil {
		t.Fatal(err)
	}
	if n, err := syscall.Read(fd2, buf); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("read at the end after fcntl O_NONBLOCK: %d, %v; want EAGAIN", n, err)
	}
}

// TestSIGINTEndsBlockedCat: Ctrl-C on a cat blocked in a follow file ends it
// at once.
func TestSIGINTEndsBlockedCat(t *testing.T) {
	home, _ := quietBox(t, 10)
	m := mount(t, home)
	cat := startReader(t, "cat", m.path("box", "stdout.follow"))
	for range 10 {
		cat.next(t, 5*time.Second)
	}
	waitBlocked(t, cat.cmd.Process.Pid, m.path("box", "stdout.follow"))
	start := time.Now()
	if err := cat.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.waitExit(500 * time.Millisecond); err != nil && !strings.Contains(err.Error(), "signal: interrupt") {
		t.Fatalf("cat after SIGINT: %v", err)
	}
	t.Logf("cat ended %v after SIGINT", time.Since(start))
}

// waitBlocked waits until process pid has a file of the mount open and
// sleeps (in the FUSE read, at the end of the file).
func waitBlocked(t *testing.T, pid int, file string) {
	t.Helper()
	waitFor(t, 5*time.Second, "the reader to block on "+file, func() bool {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		return len(f) > 0 && (f[0] == "S" || f[0] == "D") && hasOpen(pid, file)
	})
}

// hasOpen reports whether process pid has file open.
func hasOpen(pid int, file string) bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && l == file {
			return true
		}
	}
	return false
}

// TestFollowEveryLineOnce: a follower of stdout.follow sees every line
// exactly once, in order, while the writer appends 5,000 lines/s and
// rotates every 256 KiB.
func TestFollowEveryLineOnce(t *testing.T) {
	home, w := quietBox(t, 0)
	m := mount(t, home)
	cat := startReader(t, "cat", m.path("box", "stdout.follow"))
	const total, perTick = 15000, 25 // 3 s at 5,000 lines/s, one batch per 5 ms
	errc := make(chan error, 1)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < total; i += perTick {
			<-tick.C
			for j := i; j < i+perTick; j++ {
				c := msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: fmt.Appendf(nil, "seq %06d %s\n", j, strings.Repeat("y", 60))}
				if err := w.Exec(c); err != nil {
					errc <- err
					return
				}
			}
		}
		errc <- nil
	}()
	for i := range total {
		want := fmt.Sprintf("seq %06d ", i)
		if got := cat.next(t, 5*time.Second); !strings.HasPrefix(got, want) {
			t.Fatalf("line %d: %.40q, want %q…", i, got, want)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-cat.lines:
		t.Fatalf("extra line after the last: %.60q", l)
	case <-time.After(300 * time.Millisecond):
	}
}
