package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
)

// scanBodies drains a Scanner of query q and returns "source:body" strings.
func scanBodies(t testing.TB, sb *Sandbox, q Query) []string {
	t.Helper()
	sc := sb.NewScanner(q)
	defer sc.Close()
	var out []string
	err := sc.Next(func(e *Entry, _ *State) error {
		out = append(out, e.Source.String()+":"+string(e.Body))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDefaultSourcesDrainExec: the default sources (stdout, stderr,
// output) drain those entries of exec.log in order, without system
// entries or the text logs.
func TestDefaultSourcesDrainExec(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "system", "boot"), jl(1, "stdout", "out\n"), jl(2, "stderr", "err\n"), jl(3, "output", "pty\n"), jl(4, "stdout", "out2\n"))
	d.runtime(rl(1, "runtime"))
	d.kernel("[ 0.1] kernel")
	sb := d.open()
	got := scanBodies(t, sb, Query{Mask: logline.MaskDefault})
	want := []string{"stdout:out\n", "stderr:err\n", "output:pty\n", "stdout:out2\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("default sources: %q, want %q", got, want)
	}
	for _, v := range []struct {
		v    View
		want string
	}{{ViewStdout, "out\nout2\n"}, {ViewStderr, "err\n"}, {ViewOutput, "pty\n"}} {
		if b := string(snap(t, sb, v.v)); b != v.want {
			t.Errorf("view %v: %q, want %q", v.v, b, v.want)
		}
	}
}

// TestSystemSourcesIncludeTextLogs: with the system source, runtime.log and
// kernel.log lines are included, merged by time.
func TestSystemSourcesIncludeTextLogs(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "system", "boot"), jl(30, "stdout", "out\n"))
	d.runtime(rl(10, "runtime line"))
	d.kernel(rl(20, "kernel line"))
	sb := d.open()
	got := scanBodies(t, sb, Query{Mask: MaskAll})
	want := []string{"system:boot", "system:runtime line\n", "system:kernel line\n", "stdout:out\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("all sources: %q, want %q", got, want)
	}
	if got := scanBodies(t, sb, Query{Mask: 1 << SourceSystem}); len(got) != 3 {
		t.Errorf("system only: %q", got)
	}
	if got := splitLines(snap(t, sb, ViewSystem)); len(got) != 3 {
		t.Errorf("system view: %s", quoteLines(got))
	}
}

// TestRotatedDrainedFirst: exec.log.1 is drained before exec.log, and the
// whole chain oldest first.
func TestRotatedDrainedFirst(t *testing.T) {
	d := newSandboxDir(t)
	for i := range 5 {
		if i > 0 {
			d.rotate()
		}
		// Times decrease across files: file order wins within an origin.
		d.exec(jl(int64(100-i), "stdout", fmt.Sprintf("file %d\n", i)))
	}
	for i := range ChainLen {
		if _, err := os.Stat(d.path(chain.ChainName(i))); err != nil {
			t.Fatal(err)
		}
	}
	sb := d.open()
	want := "file 0\nfile 1\nfile 2\nfile 3\nfile 4\n"
	if got := string(snap(t, sb, ViewStdout)); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got := strings.Join(scanBodies(t, sb, Query{Mask: logline.MaskDefault}), ""); got != strings.ReplaceAll(want, "file", "stdout:file") {
		t.Errorf("scan = %q", got)
	}
	// One more rotation drops the oldest.
	d.rotate()
	d.exec(jl(0, "stdout", "file 5\n"))
	expireHold(sb)
	if got := string(snap(t, sb, ViewStdout)); got != "file 1\nfile 2\nfile 3\nfile 4\nfile 5\n" {
		t.Errorf("after a sixth file: %q", got)
	}
}

// TestSnapshotChronologicalAcrossFiles: a snapshot with system sources is
// chronological across exec files, runtime.log and kernel.log.
func TestSnapshotChronologicalAcrossFiles(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "e0\n"), jl(40, "stdout", "e40\n"))
	d.rotate()
	d.exec(jl(50, "stderr", "e50\n"), jl(90, "system", "e90"))
	d.runtime(rl(10, "r10"), rl(45, "r45"), rl(80, "r80"))
	d.kernel(rl(5, "k5"), rl(60, "k60"), rl(95, "k95"))
	sb := d.open()
	got := splitLines(snap(t, sb, ViewMerged))
	want := []string{"0 stdout e0", "5 system k5", "10 system r10", "40 stdout e40", "45 system r45", "50 stderr e50", "60 system k60", "80 system r80", "90 system e90", "95 system k95"}
	if len(got) != len(want) {
		t.Fatalf("merged: %s", quoteLines(got))
	}
	for i, w := range want {
		ms, rest, _ := strings.Cut(w, " ")
		n, _ := strconv.Atoi(ms)
		if got[i] != tsAt(int64(n))+" "+rest {
			t.Errorf("line %d: %q, want %q", i, got[i], tsAt(int64(n))+" "+rest)
		}
	}
	sys := splitLines(snap(t, sb, ViewSystem))
	if len(sys) != 7 || !strings.HasSuffix(sys[0], "k5") || !strings.HasSuffix(sys[6], "k95") {
		t.Errorf("system: %s", quoteLines(sys))
	}
}

// TestSnapshotStableDuringRotation: a snapshot's bytes are fixed at its
// open, while the sandbox writes and rotates past the retention window.
func TestSnapshotStableDuringRotation(t *testing.T) {
	d := newSandboxDir(t)
	for i := range 50 {
		d.exec(jl(int64(i), "stdout", fmt.Sprintf("before %d\n", i)))
	}
	d.runtime(rl(1, "runtime"))
	sb := d.open()
	var snaps []*Snapshot
	var want [][]byte
	for _, nv := range allViews {
		s, err := sb.OpenSnapshot(nv.v)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, s)
		want = append(want, readAllAt(t, s, s.Size(), 1000))
	}
	for i := range 7 {
		d.rotate()
		d.exec(jl(int64(100+i), "stdout", fmt.Sprintf("after %d\n", i)))
	}
	d.runtime(rl(200, "more runtime"))
	for i, s := range snaps {
		compareBytes(t, allViews[i].name, readAllAt(t, s, s.Size(), 333), want[i])
		s.Close()
	}
	expireHold(sb)
	if got := string(snap(t, sb, ViewStdout)); got != "after 2\nafter 3\nafter 4\nafter 5\nafter 6\n" {
		t.Errorf("a new snapshot: %q", got)
	}
}

// TestFollowAcrossRotation: a follower sees each line once across
// rotations, whether it advances between them or not.
func TestFollowAcrossRotation(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "0\n"))
	sb := d.open()
	fl := openFollower(t, sb, ViewStdout)
	got := string(fl.read())
	for i := 1; i <= 12; i++ {
		d.exec(jl(int64(i), "stdout", fmt.Sprintf("%d a\n", i)))
		d.rotate()
		if i%3 == 0 {
			d.rotate() // an empty exec.log rotated away
		}
		d.exec(jl(int64(i), "stdout", fmt.Sprintf("%d b\n", i)))
		if i%2 == 0 {
			got += string(fl.next())
		}
	}
	got += string(fl.next())
	var want strings.Builder
	want.WriteString("0\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&want, "%d a\n%d b\n", i, i)
	}
	if got != want.String() {
		t.Errorf("follow:\n%s\nwant:\n%s", got, want.String())
	}
}

// TestRotationWhileFollowingHighRate: a writer appends and rotates every
// few KiB as fast as it can (held back only so that no follower falls out
// of the retention window) while three followers of different views
// Advance and ReadAt, and snapshots are opened: every line is seen exactly
// once, in order, and every snapshot is a contiguous run of lines.
func TestRotationWhileFollowingHighRate(t *testing.T) {
	const lines = 3000
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "line 000000\n"))
	sb := d.open()

	var rotations atomic.Int64
	views := []namedView{{"stdout", ViewStdout}, {"merged", ViewMerged}, {"merged.jsonl", ViewMergedJSON}}
	seen := make([]atomic.Int64, len(views)) // rotations count when each last advanced
	var writerDone, failed atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	fail := func(err error) {
		failed.Store(true)
		errc <- err
	}

	wg.Add(1)
	go func() { // the writer
		defer wg.Done()
		defer writerDone.Store(true)
		f, err := os.OpenFile(d.path(ExecLogName), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			fail(err)
			return
		}
		var size int64
		for i := 1; i < lines; i++ {
			l := jl(int64(i), "stdout", fmt.Sprintf("line %06d\n", i))
			if _, err := f.WriteString(l); err != nil {
				fail(err)
				return
			}
			size += int64(len(l))
			if size < 3<<10 {
				continue
			}
			for { // keep every follower within the retention window
				min := rotations.Load()
				for i := range seen {
					min = minInt(min, seen[i].Load())
				}
				if rotations.Load()+1-min <= ChainLen-2 {
					break
				}
				if failed.Load() {
					return
				}
				time.Sleep(100 * time.Microsecond)
			}
			f.Close()
			if err := rotateChain(d.logs); err != nil {
				fail(err)
				return
			}
			rotations.Add(1)
			if f, err = os.OpenFile(d.path(ExecLogName), os.O_WRONLY|os.O_APPEND, 0); err != nil {
				fail(err)
				return
			}
			size = 0
		}
		f.Close()
	}()

	results := make([][]byte, len(views))
	for k, nv := range views {
		wg.Add(1)
		go func() { // a follower
			defer wg.Done()
			f, err := sb.OpenFollow(nv.v)
			if err != nil {
				fail(err)
				return
			}
			defer f.Close()
			var out []byte
			buf := make([]byte, 1000+k*3000)
			for {
				done := writerDone.Load()
				ch := f.Changed()
				r := rotations.Load() // its position is in a file of rotation r or later…
				if _, err := f.Advance(); err != nil {
					fail(fmt.Errorf("%s: Advance: %w", nv.name, err))
					return
				}
				seen[k].Store(r) // …once Advance has returned
				for int64(len(out)) < f.Size() {
					n, err := f.ReadAt(buf, int64(len(out)))
					out = append(out, buf[:n]...)
					if err != nil && err != io.EOF {
						fail(fmt.Errorf("%s: ReadAt: %w", nv.name, err))
						return
					}
				}
				if done || failed.Load() {
					results[k] = out
					return
				}
				select {
				case <-ch:
				case <-time.After(time.Duration(1+k) * time.Millisecond):
				}
			}
		}()
	}

	wg.Add(1)
	go func() { // snapshots along the way
		defer wg.Done()
		for !writerDone.Load() {
			b, err := snapBytes(sb, ViewStdout)
			if err != nil {
				fail(err)
				return
			}
			if err := checkRun(b); err != nil {
				fail(fmt.Errorf("snapshot: %w", err))
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if rotations.Load() < 10 {
		t.Fatalf("only %d rotations", rotations.Load())
	}
	for k, nv := range views {
		var got []string
		switch nv.v.Format {
		case FormatRaw:
			got = splitLines(results[k])
		case FormatText:
			for _, l := range splitLines(results[k]) {
				got = append(got, l[len(l)-len("line 000000"):])
			}
		case FormatJSON:
			for _, j := range parseJSONL(t, results[k]) {
				got = append(got, strings.TrimSuffix(j.D, "\n"))
			}
		}
		if len(got) != lines {
			t.Errorf("%s: %d lines, want %d", nv.name, len(got), lines)
		}
		for i, l := range got {
			if want := fmt.Sprintf("line %06d", i); l != want {
				t.Fatalf("%s: line %d is %q, want %q", nv.name, i, l, want)
			}
		}
	}
	t.Logf("%d rotations", rotations.Load())
}

func minInt(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

// snapBytes reads a whole snapshot, without a testing.TB.
func snapBytes(sb *Sandbox, v View) ([]byte, error) {
	s, err := sb.OpenSnapshot(v)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	b := make([]byte, s.Size())
	n, err := s.ReadAt(b, 0)
	if n != len(b) {
		return nil, fmt.Errorf("snapshot: read %d of %d bytes: %v", n, len(b), err)
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

// checkRun checks that b is "line N\n" for consecutive N.
func checkRun(b []byte) error {
	var prev = -1
	for _, l := range bytes.SplitAfter(b, []byte{'\n'}) {
		if len(l) == 0 {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSuffix(string(l), "\n"), "line "))
		if err != nil || (prev >= 0 && n != prev+1) {
			return fmt.Errorf("line %q after %d", l, prev)
		}
		prev = n
	}
	return nil
}

// TestOpenFileSetDuringRotation: the set of files taken while exec.log
// rotates never misses or repeats a file.
func TestOpenFileSetDuringRotation(t *testing.T) {
	d := newSandboxDir(t)
	d.exec(jl(0, "stdout", "0\n"))
	sb := d.open()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var werr error
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if werr = rotateChain(d.logs); werr != nil {
				return
			}
			f, err := os.OpenFile(d.path(ExecLogName), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				werr = err
				return
			}
			f.WriteString(jl(int64(i), "stdout", fmt.Sprintf("%d\n", i)))
			f.Close()
		}
	}()
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		files, err := chain.OpenFileSet(sb.table)
		if err != nil {
			t.Log(err) // tolerated: "keeps rotating" under this extreme rate
			continue
		}
		seenGen := map[uint64]bool{}
		for _, f := range files.Chain {
			if seenGen[f.Gen] {
				t.Errorf("file %d twice in the chain", f.Gen)
			}
			seenGen[f.Gen] = true
		}
		var m chain.Merger
		if err := m.Reset(files, MaskAll, State{}); err != nil {
			t.Fatal(err)
		}
		last := -1
		for {
			e, ok := m.Next()
			if !ok {
				break
			}
			n, _ := strconv.Atoi(strings.TrimSpace(string(e.Body)))
			if last >= 0 && n != last+1 {
				t.Errorf("chain %v: %d after %d", files.Names, n, last)
			}
			last = n
		}
		files.Release()
	}
	close(stop)
	wg.Wait()
	if werr != nil && !errors.Is(werr, os.ErrNotExist) {
		t.Fatal(werr)
	}
}
