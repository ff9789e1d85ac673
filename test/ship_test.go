package test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// shipProc is one msb-logfs ship process.
type shipProc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{} // closed once it ended, with err
	err    error
}

func startShip(t *testing.T, args ...string) *shipProc {
	t.Helper()
	p := &shipProc{cmd: exec.Command(binary, append([]string{"ship"}, args...)...), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// term stops p with SIGTERM and wants status 0.
func (p *shipProc) term(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("ship after SIGTERM: %v\n%s", p.err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("ship did not exit after SIGTERM\n%s", p.stderr)
	}
}

// kill9 kills p.
func (p *shipProc) kill9() {
	p.cmd.Process.Kill()
	<-p.done
}

// numberedWriter writes "rec N" records to a sandbox at a steady rate,
// its exec.log rotating every rotateAt bytes.
type numberedWriter struct {
	written   atomic.Int64
	rotations atomic.Int64 // new exec.log files seen after a batch
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	err       error
}

func writeNumbered(t *testing.T, home, name string, perSecond int, rotateAt int64) *numberedWriter {
	s, err := msbwriter.Create(home, name, msbwriter.Options{RotateAt: rotateAt})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &numberedWriter{cancel: cancel}
	pad := strings.Repeat("x", 100)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer s.Close()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		execLog := filepath.Join(msbwriter.LogsDir(home, name), "exec.log")
		lastIno := inodeOrZero(execLog)
		for n := 0; ; {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for range perSecond / 100 {
				if err := s.Exec(msbwriter.Chunk{Source: "stdout", Data: fmt.Appendf(nil, "rec %d %s\n", n, pad), ID: 1, HasID: true}); err != nil {
					w.err = err
					return
				}
				n++
				w.written.Store(int64(n))
			}
			if ino := inodeOrZero(execLog); ino != lastIno {
				w.rotations.Add(1)
				lastIno = ino
			}
		}
	}()
	t.Cleanup(w.stop)
	return w
}

func (w *numberedWriter) stop() { w.cancel(); w.wg.Wait() }

// inodeOrZero returns the inode number of path, 0 if it cannot be
// stat'ed (the writer's goroutine cannot fail the test).
func inodeOrZero(path string) uint64 {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil {
		return 0
	}
	return st.Ino
}

// tally counts each number of sandbox name among recs, and checks that
// every copy of a number carries the cursor of its first copy.
func tally(t *testing.T, recs []shipped, name string) map[int]int {
	t.Helper()
	count, first := map[int]int{}, map[int]string{}
	for _, r := range recs {
		var n int
		if r.sandbox != name {
			continue
		}
		if _, err := fmt.Sscanf(r.body, "rec %d ", &n); err != nil {
			continue
		}
		if count[n] > 0 && r.cursor != first[n] {
			t.Errorf("rec %d: a duplicate with cursor %q, the first copy had %q", n, r.cursor, first[n])
		}
		if count[n] == 0 {
			first[n] = r.cursor
		}
		count[n]++
	}
	return count
}

// missing returns how many of 0..n-1 are not in count, and how many are
// there more than once.
func missing(count map[int]int, n int) (lost, dup int) {
	for i := range n {
		switch c := count[i]; {
		case c == 0:
			lost++
		case c > 1:
			dup++
		}
	}
	return
}

// The proof of issue 18, for each real receiver: numbered records into
// a sandbox whose exec.log rotates many times; ship stopped with SIGTERM
// three times (every number then there exactly once), killed with -9
// three times and the receiver restarted once (every number at least
// once, duplicates with the first copy's cursor).
func TestShipProofCollector(t *testing.T) { shipProof(t, newCollector(t)) }

func TestShipProofRsyslog(t *testing.T) { shipProof(t, newRsyslog(t)) }

func shipProof(t *testing.T, recv shipReceiver) {
	home := t.TempDir()
	state := filepath.Join(t.TempDir(), "state")
	os.MkdirAll(filepath.Join(home, "sandboxes"), 0o755)
	recv.start(t)
	args := []string{"--home", home, "--to", recv.target(), "--state-dir", state, "--retry-max", "1s", "--batch-records", "500"}
	// The five files hold about 6 s of writes: more than a restart of
	// the receiver takes on a loaded machine.
	const rotateAt = 384 << 10
	w := writeNumbered(t, home, "proof", 2000, rotateAt)
	pause := func() { time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond) }
	var procs []*shipProc // every ship run, to check each one's log
	start := func() *shipProc {
		p := startShip(t, args...)
		procs = append(procs, p)
		return p
	}
	p := start()
	for range 3 {
		pause()
		p.term(t)
		p = start()
	}
	// After the SIGTERMs, every number written so far arrives once.
	upTo := int(w.written.Load())
	waitFor(t, 60*time.Second, "the records written before the last SIGTERM", func() bool {
		lost, _ := missing(tally(t, recv.records(t), "proof"), upTo)
		return lost == 0
	})
	if _, dup := missing(tally(t, recv.records(t), "proof"), upTo); dup > 0 {
		t.Errorf("%d of the first %d records arrived more than once after SIGTERMs only", dup, upTo)
	}
	for i := range 3 {
		pause()
		p.kill9()
		if i == 1 {
			recv.stop(t)
			time.Sleep(time.Second)
			recv.start(t)
		}
		p = start()
	}
	time.Sleep(5 * time.Second) // more rotations, shipped as they come
	w.stop()
	if w.err != nil {
		t.Fatal(w.err)
	}
	total := int(w.written.Load())
	waitFor(t, 60*time.Second, "every record", func() bool {
		lost, _ := missing(tally(t, recv.records(t), "proof"), total)
		return lost == 0
	})
	p.term(t)
	recv.stop(t)
	count := tally(t, recv.records(t), "proof")
	lost, dup := missing(count, total)
	if lost > 0 || len(count) != total {
		t.Errorf("%d of %d records lost (%d distinct arrived)", lost, total, len(count))
	}
	if _, dupEarly := missing(count, upTo); dupEarly > 0 {
		t.Errorf("%d records written before the kills arrived twice", dupEarly)
	}
	rotations := w.rotations.Load()
	t.Logf("%d records, %d rotations; %d duplicates after kill -9 and a receiver restart", total, rotations, dup)
	if rotations < 6 {
		t.Errorf("only %d rotations: the oldest file was not dropped many times", rotations)
	}
	for i, p := range procs {
		if strings.Contains(p.stderr.String(), "LOST") {
			t.Errorf("ship run %d reported a loss:\n%s", i+1, p.stderr)
		}
	}
}

// A ship stopped while rotation drops the file holding its checkpoint
// says so: a log line naming the sandbox and the gap, and the counter.
func TestShipReportsLoss(t *testing.T) {
	recv := newCollector(t)
	recv.start(t)
	home := t.TempDir()
	state := filepath.Join(t.TempDir(), "state")
	s, err := msbwriter.Create(home, "lossy", msbwriter.Options{RotateAt: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write := func(from, to int) {
		for i := from; i < to; i++ {
			if err := s.Exec(msbwriter.Chunk{Source: "stdout", Data: fmt.Appendf(nil, "rec %d\n", i)}); err != nil {
				t.Fatalf("write rec %d: %v", i, err)
			}
		}
	}
	once := func() string {
		cmd := exec.Command(binary, "ship", "--home", home, "--to", recv.target(), "--state-dir", state, "--once")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("ship --once: %v\n%s", err, stderr.String())
		}
		return stderr.String()
	}
	write(0, 100)
	once()
	write(100, 10000) // about 50 rotations while ship is stopped
	out := once()
	for _, want := range []string{"level=ERROR", "LOST", "sandbox=lossy", "gap=", "losses=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in ship's stderr:\n%s", want, out)
		}
	}
	recv.stop(t)
	count := tally(t, recv.records(t), "lossy")
	if count[99] != 1 || count[9999] != 1 || count[150] != 0 {
		t.Errorf("rec 99 x%d, rec 150 x%d, rec 9999 x%d: want 1, 0 (lost) and 1", count[99], count[150], count[9999])
	}
}

// Bad input to ship: a one-line error and status 2, before anything is
// sent or written.
func TestShipBadInput(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, "sandboxes", "foo", "logs"), 0o755)
	state := filepath.Join(t.TempDir(), "state")
	for _, tc := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"--to", "ftp://h:1"}, nil, "http"},
		{[]string{"--to", "syslog+udp://h:1"}, nil, "syslog+tcp"},
		{[]string{"--to", "syslog+tcp://h:514?max=1"}, nil, "max=1"},
		{nil, nil, "no target"},
		{nil, []string{"OTEL_EXPORTER_OTLP_HEADERS=Authorization"}, "OTEL_EXPORTER_OTLP_HEADERS"},
		{[]string{"--to", "http://h:1", "--batch-records", "0"}, nil, "--batch-records"},
		{[]string{"--to", "http://h:1", "--source", "nope"}, nil, "unknown source"},
		{[]string{"--to", "http://h:1", "--once", "nosuch"}, nil, "no such sandbox"},
		{[]string{"--to", "http://h:1", "--retry-max", "1ms"}, nil, "--retry-max"},
	} {
		cmd := exec.Command(binary, append([]string{"ship", "--home", home, "--state-dir", state}, tc.args...)...)
		cmd.Env = append(os.Environ(), "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=")
		cmd.Env = append(cmd.Env, tc.env...)
		out, err := cmd.CombinedOutput()
		if exitCode(err) != 2 || !strings.Contains(string(out), tc.want) || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
			t.Errorf("ship %q: status %d, output %q; want status 2 and one line with %q", tc.args, exitCode(err), out, tc.want)
		}
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("bad input made the state directory: %v", err)
	}
	// A state directory in use by another ship is refused.
	first := startShip(t, "--home", home, "--to", "http://127.0.0.1:1", "--state-dir", state)
	waitFor(t, 10*time.Second, "the first ship's lock", func() bool {
		_, err := os.Stat(filepath.Join(state, ".lock"))
		return err == nil
	})
	out, err := exec.Command(binary, "ship", "--home", home, "--to", "http://127.0.0.1:1", "--state-dir", state, "--once").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another msb-logfs ship") {
		t.Errorf("a second ship on the same state directory: %v %s", err, out)
	}
	first.term(t)
}

// A 16 MiB record (a line just under the engine's limit) reaches the
// real Collector whole, between its neighbours.
func TestShipHugeRecordCollector(t *testing.T) {
	recv := newCollector(t)
	recv.start(t)
	home := t.TempDir()
	s, err := msbwriter.Create(home, "huge", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20-64)
	for _, d := range [][]byte{[]byte("rec 0 before\n"), big, []byte("rec 1 after\n")} {
		if err := s.Exec(msbwriter.Chunk{Source: "stdout", Data: d}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	out, err := exec.Command(binary, "ship", "--home", home, "--to", recv.target(), "--state-dir", filepath.Join(t.TempDir(), "state"), "--once").CombinedOutput()
	if err != nil {
		t.Fatalf("ship --once: %v\n%s", err, out)
	}
	recv.stop(t)
	recs := recv.records(t)
	if len(recs) != 3 {
		t.Fatalf("%d records arrived, want 3", len(recs))
	}
	if recs[1].body != string(big) || tally(t, recs, "huge")[1] != 1 {
		t.Fatalf("the middle record has %d bytes, want the %d-byte body whole, then rec 1", len(recs[1].body), len(big))
	}
}
