// Command latency measures the append → visible latency of msb-logfs through
// a real mount: how long a line appended to a sandbox's exec.log takes to be
// read from a .follow file by a blocked reader, at a steady rate and with
// exec.log rotating under load.
//
// It makes a temporary microsandbox home with one sandbox, mounts it with
// `msb-logfs mount`, opens MNT/<sandbox>/<file> and reads it line by line
// while a writer appends -rate chunks per second for -duration: stdout
// chunks, or for stderr.follow, output.follow and system.follow chunks of
// that source. Each chunk is one exec.log line (one write(2)), and exec.log
// rotates whenever a line would take it past -rotate bytes. Each chunk's
// data is "seq=<n> t=<unix nanoseconds of the write>\n"; the reader records
// the time from write to read and checks that every seq arrives exactly once
// and in order. Then it unmounts (SIGINT to the mount process, as Ctrl-C
// would) with the reader still blocked, and removes everything it made.
//
// Usage:
//
//	latency [-bin msb-logfs] [-rate 20000] [-duration 10s] [-rotate 256KiB]
//	        [-file merged.follow] [-series 1s] [-kv FILE]
//
// It prints lines written and seen, missing, duplicated and out-of-order
// counts, latency percentiles, the achieved rate and the CPU time the mount
// process used, and exits 1 if any line was lost, duplicated or reordered,
// or if the mount misbehaved. -series adds the percentiles of each interval
// of the run (does latency drift as exec.log grows?); -kv writes the
// figures as key=value lines too (for bench/run.sh).
//
// The follow file is opened with a raw blocking open(2): os.Open would put a
// FUSE file in non-blocking mode and park on EAGAIN waiting for a poll
// readiness that go-fuse never reports (it answers POLL with ENOSYS).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

const sandboxName = "latency"

func main() {
	log.SetFlags(0)
	log.SetPrefix("latency: ")

	var cfg config
	var rotate string
	flag.StringVar(&cfg.bin, "bin", "", "msb-logfs binary (default: go build ./cmd/msb-logfs into a temporary directory)")
	flag.IntVar(&cfg.rate, "rate", 20000, "lines appended per second")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long to append")
	flag.StringVar(&rotate, "rotate", "256KiB", "exec.log rotation size (RotateAt of the writer)")
	flag.StringVar(&cfg.file, "file", "merged.follow", "follow file of the sandbox to read")
	flag.StringVar(&cfg.kv, "kv", "", "also write the figures as key=value lines to `FILE`")
	flag.DurationVar(&cfg.series, "series", 0, "also print the latency of the lines written in each `INTERVAL` of the run (e.g. 1s)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(),
			"Usage: %s [flags]\n\n"+
				"Measures append → visible latency through a real msb-logfs mount:\n"+
				"appends -rate lines/s to a sandbox for -duration (rotating exec.log\n"+
				"at -rotate) while a blocked reader reads -file, and checks that every\n"+
				"line arrives once and in order.\n\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	var err error
	if cfg.rotateAt, err = msbwriter.ParseSize(rotate); err != nil || cfg.rotateAt <= 0 {
		log.Printf("bad -rotate %q", rotate)
		os.Exit(2)
	}
	if flag.NArg() != 0 || cfg.rate <= 0 || cfg.duration <= 0 || cfg.file == "" || strings.Contains(cfg.file, "/") {
		flag.Usage()
		os.Exit(2)
	}

	ctx, caught := catchSignals()
	ok, err := run(ctx, cfg)
	if err != nil {
		log.Print(err)
	}
	caught() // everything is cleaned up: die of the signal, if one came
	if err != nil || !ok {
		os.Exit(1)
	}
}

// catchSignals returns a context cancelled at the first SIGINT or SIGTERM,
// and a function that, once the caller has cleaned up, ends the process
// with that signal: a shell running this command (bench/run.sh) then knows
// it was interrupted and stops too.
func catchSignals() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	var got atomic.Value
	go func() {
		s := <-sigs
		got.Store(s)
		cancel()
	}()
	return ctx, func() {
		s, ok := got.Load().(os.Signal)
		if !ok {
			return
		}
		signal.Reset(s)
		_ = syscall.Kill(os.Getpid(), s.(syscall.Signal))
		time.Sleep(time.Second) // the signal is on its way
		os.Exit(128 + int(s.(syscall.Signal)))
	}
}

type config struct {
	bin      string
	rate     int
	duration time.Duration
	rotateAt int64
	file     string
	kv       string
	series   time.Duration
}

// run performs the whole measurement. ok is false when a line was lost,
// duplicated or reordered, or the mount misbehaved; err when the
// measurement could not be made at all.
func run(ctx context.Context, cfg config) (ok bool, err error) {
	work, err := os.MkdirTemp("", "msb-logfs-latency.")
	if err != nil {
		return false, err
	}
	mnt := filepath.Join(work, "mnt")
	home := filepath.Join(work, "home")
	defer cleanupWork(work, mnt)
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return false, err
	}

	bin, err := binary(cfg.bin, work)
	if err != nil {
		return false, err
	}

	sb, err := msbwriter.Create(home, sandboxName, msbwriter.Options{RotateAt: cfg.rotateAt})
	if err != nil {
		return false, err
	}
	defer sb.Close()
	// Some content before the reader opens: the follow file starts with it.
	if err := sb.Exec(msbwriter.Chunk{Source: msbwriter.SourceSystem, Data: []byte("latency benchmark starts\n")}); err != nil {
		return false, err
	}

	m, err := startMount(ctx, bin, home, mnt, filepath.Join(work, "mount.log"))
	if err != nil {
		return false, err
	}
	defer m.stop(syscall.SIGINT) // no-op once stopped below

	path := filepath.Join(mnt, sandboxName, cfg.file)
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()

	expect := int(float64(cfg.rate)*cfg.duration.Seconds()) + 1
	r := newReader(f, expect)
	go r.run()

	fmt.Printf("latency: %s, %d lines/s for %s, exec.log rotated at %d bytes, msb-logfs pid %d\n",
		cfg.file, cfg.rate, cfg.duration, cfg.rotateAt, m.cmd.Process.Pid)

	cpu0, _ := cpuSeconds(m.cmd.Process.Pid)
	w, werr := write(ctx, sb, cfg)
	// Wait for the reader to see the last line: until every line is seen,
	// nothing new arrives for 3 s, or the reader ends.
	lastProgress, lastSeen := time.Now(), int64(-1)
	for ctx.Err() == nil {
		n := r.unique.Load()
		if n >= w.lines || r.isDone() {
			break
		}
		if n != lastSeen {
			lastProgress, lastSeen = time.Now(), n
		} else if time.Since(lastProgress) > 3*time.Second {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cpu1, _ := cpuSeconds(m.cmd.Process.Pid)
	busy := time.Since(w.start)
	if err := ctx.Err(); err != nil {
		return false, errors.New("interrupted")
	}

	// Unmount with the reader blocked: it must get end of file at once.
	endedEarly := r.isDone()
	sigint := time.Now()
	mountRC, mountTook := m.stop(syscall.SIGINT)
	readerEnd := time.Duration(-1)
	select {
	case <-r.done:
		readerEnd = r.endedAt.Sub(sigint)
	case <-time.After(5 * time.Second):
	}

	res := r.result(w.lines, w.start, cfg.series)
	ok = werr == nil && res.missing == 0 && res.duplicated == 0 && res.outOfOrder == 0 &&
		!endedEarly && readerEnd >= 0 && mountRC == 0 && r.readErr() == nil

	p := func(q float64) time.Duration { return percentile(res.latencies, q) }
	fmt.Printf("  lines written     %d in %.2f s: %.0f lines/s achieved (%.1f MB/s of exec.log), %d rotations\n",
		w.lines, w.elapsed.Seconds(), float64(w.lines)/w.elapsed.Seconds(),
		float64(w.bytes)/w.elapsed.Seconds()/1e6, w.rotations)
	if werr != nil {
		fmt.Printf("  WRITE ERROR       %v\n", werr)
	}
	fmt.Printf("  lines seen        %d (%d distinct, %d other lines)\n", res.seen, res.unique, res.other)
	fmt.Printf("  missing           %d%s\n", res.missing, firstOf(res.firstMissing))
	fmt.Printf("  duplicated        %d\n", res.duplicated)
	fmt.Printf("  out of order      %d\n", res.outOfOrder)
	if len(res.latencies) > 0 {
		fmt.Printf("  latency           p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s)\n",
			fmtDur(p(0.50)), fmtDur(p(0.90)), fmtDur(p(0.99)), fmtDur(p(0.999)),
			fmtDur(res.latencies[len(res.latencies)-1]), fmtDur(res.mean))
	}
	if res.missing == 0 {
		fmt.Printf("  caught up         the last line was seen %s after the last write\n", fmtDur(res.lastAt.Sub(w.end)))
	}
	fmt.Printf("  mount CPU         %.2f s while writing and catching up (%s): %.0f%% of one core\n",
		cpu1-cpu0, fmtDur(busy), 100*(cpu1-cpu0)/busy.Seconds())
	if e := r.readErr(); e != nil {
		fmt.Printf("  READ ERROR        %v\n", e)
	}
	if cfg.series > 0 && len(res.series) > 0 {
		fmt.Printf("  latency of the lines written in each %s, by its start:\n", cfg.series)
		for i, b := range res.series {
			if len(b) == 0 {
				continue
			}
			fmt.Printf("    %8s  %6d lines  p50 %-9s p99 %-9s max %s\n", time.Duration(i)*cfg.series,
				len(b), fmtDur(percentile(b, 0.5)), fmtDur(percentile(b, 0.99)), fmtDur(b[len(b)-1]))
		}
	}
	switch {
	case endedEarly:
		fmt.Printf("  unmount           (the reader had already ended); mount exited %d after %s\n", mountRC, fmtDur(mountTook))
	case readerEnd >= 0:
		fmt.Printf("  unmount           reader got end of file %s after SIGINT; mount exited %d after %s\n",
			fmtDur(readerEnd), mountRC, fmtDur(mountTook))
	default:
		fmt.Printf("  unmount           READER STILL BLOCKED 5 s after SIGINT; mount exited %d after %s\n",
			mountRC, fmtDur(mountTook))
	}
	if ok {
		fmt.Println("  result            OK: every line seen once, in order")
	} else {
		fmt.Println("  result            FAILED")
		if tail := logTail(m.logPath, 10); tail != "" {
			fmt.Printf("  mount log (last lines):\n%s", tail)
		}
	}

	if cfg.kv != "" {
		var b strings.Builder
		kv := func(k string, v any) { fmt.Fprintf(&b, "%s=%v\n", k, v) }
		kv("file", cfg.file)
		kv("rate", cfg.rate)
		kv("duration_s", cfg.duration.Seconds())
		kv("rotate_bytes", cfg.rotateAt)
		kv("written", w.lines)
		kv("achieved_rate", fmt.Sprintf("%.0f", float64(w.lines)/w.elapsed.Seconds()))
		kv("rotations", w.rotations)
		kv("mount_cpu_s", fmt.Sprintf("%.2f", cpu1-cpu0))
		kv("mount_cpu_pct", fmt.Sprintf("%.0f", 100*(cpu1-cpu0)/busy.Seconds()))
		kv("seen", res.seen)
		kv("missing", res.missing)
		kv("duplicated", res.duplicated)
		kv("out_of_order", res.outOfOrder)
		if len(res.latencies) > 0 {
			kv("p50_s", p(0.50).Seconds())
			kv("p90_s", p(0.90).Seconds())
			kv("p99_s", p(0.99).Seconds())
			kv("max_s", res.latencies[len(res.latencies)-1].Seconds())
		}
		kv("reader_eof_after_sigint_s", readerEnd.Seconds())
		kv("mount_exit", mountRC)
		kv("ok", ok)
		if err := os.WriteFile(cfg.kv, []byte(b.String()), 0o644); err != nil {
			return ok, err
		}
	}
	return ok, nil
}

// ---------------------------------------------------------------- writer

type written struct {
	lines     int64
	bytes     int64
	rotations int
	start     time.Time
	elapsed   time.Duration
	end       time.Time
}

// write appends cfg.rate lines per second for cfg.duration, rate×duration
// lines in all: every millisecond, the lines due by then, one Exec (one
// write(2)) each.
func write(ctx context.Context, sb *msbwriter.Sandbox, cfg config) (written, error) {
	var w written
	var data, line []byte
	var size int64 // exec.log's size as the writer sees it, to count rotations
	source := sourceFor(cfg.file)
	total := int64(cfg.duration.Seconds() * float64(cfg.rate))
	start := time.Now()
	w.start = start
	for w.lines < total && ctx.Err() == nil {
		due := min(total, int64(time.Since(start).Seconds()*float64(cfg.rate)))
		for w.lines < due {
			seq := w.lines + 1
			now := time.Now()
			data = fmt.Appendf(data[:0], "seq=%d t=%d\n", seq, now.UnixNano())
			c := msbwriter.Chunk{Time: now, Source: source, Data: data, ID: 1, HasID: true}
			line = msbwriter.AppendLine(line[:0], c)
			if err := sb.Exec(c); err != nil {
				w.elapsed = time.Since(start)
				w.end = time.Now()
				return w, err
			}
			n := int64(len(line))
			if size > 0 && size+n > cfg.rotateAt {
				w.rotations++
				size = 0
			}
			size += n
			w.bytes += n
			w.lines = seq
		}
		if w.lines < total {
			time.Sleep(time.Millisecond)
		}
	}
	w.end = time.Now()
	w.elapsed = w.end.Sub(start)
	return w, ctx.Err()
}

// sourceFor returns the chunk source whose lines file shows: stdout for
// merged.follow and stdout.follow, else the view's own (stderr, output,
// system).
func sourceFor(file string) string {
	switch v, _, _ := strings.Cut(file, "."); v {
	case msbwriter.SourceStderr, msbwriter.SourceOutput, msbwriter.SourceSystem:
		return v
	}
	return msbwriter.SourceStdout
}

// ---------------------------------------------------------------- reader

// reader reads the follow file line by line and records, for every
// "seq=<n> t=<nanos>" line, its latency and whether it came in order.
type reader struct {
	f      *os.File
	unique atomic.Int64 // distinct seqs seen (for progress)
	done   chan struct{}

	mu         sync.Mutex
	seen       []bool // by seq
	maxSeq     int64
	lines      int64
	other      int64
	duplicated int64
	outOfOrder int64
	latencies  []time.Duration
	writeTimes []int64 // unix nanos, parallel to latencies
	lastAt     time.Time
	err        error
	endedAt    time.Time
}

func newReader(f *os.File, expect int) *reader {
	return &reader{f: f, done: make(chan struct{}), seen: make([]bool, expect+1),
		latencies: make([]time.Duration, 0, expect), writeTimes: make([]int64, 0, expect)}
}

func (r *reader) run() {
	defer close(r.done)
	br := bufio.NewReaderSize(r.f, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			r.mu.Lock()
			r.other++
			r.mu.Unlock()
			for err == bufio.ErrBufferFull { // a line this long is not ours
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		if len(line) > 0 {
			r.line(line, time.Now())
		}
		if err != nil {
			r.mu.Lock()
			if !errors.Is(err, io.EOF) {
				r.err = err
			}
			r.endedAt = time.Now()
			r.mu.Unlock()
			return
		}
	}
}

// line handles one line read at now. The seq and t fields are found
// wherever they are, so that every view's rendering works: merged and system
// prefix "<TIME> <SOURCE> ", stdout and output show the data as it is.
func (r *reader) line(line []byte, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines++
	seq, t, ok := parseLine(line)
	if !ok {
		r.other++
		return
	}
	for int64(len(r.seen)) <= seq {
		r.seen = append(r.seen, false)
	}
	switch {
	case r.seen[seq]:
		r.duplicated++
		return
	case seq < r.maxSeq:
		r.outOfOrder++
	default:
		r.maxSeq = seq
	}
	r.seen[seq] = true
	r.unique.Add(1)
	r.latencies = append(r.latencies, now.Sub(time.Unix(0, t)))
	r.writeTimes = append(r.writeTimes, t)
	r.lastAt = now
}

func parseLine(line []byte) (seq, t int64, ok bool) {
	i := bytes.Index(line, []byte("seq="))
	if i < 0 {
		return 0, 0, false
	}
	rest := bytes.TrimRight(line[i+len("seq="):], "\n")
	s, tpart, found := bytes.Cut(rest, []byte(" t="))
	if !found {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseInt(string(s), 10, 64)
	t, err2 := strconv.ParseInt(string(tpart), 10, 64)
	if err1 != nil || err2 != nil || seq <= 0 || seq > 1<<32 {
		return 0, 0, false
	}
	return seq, t, true
}

func (r *reader) isDone() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func (r *reader) readErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

type result struct {
	seen, unique, other             int64
	missing, duplicated, outOfOrder int64
	firstMissing                    []int64
	latencies                       []time.Duration // sorted
	mean                            time.Duration
	lastAt                          time.Time         // when the last new line arrived
	series                          [][]time.Duration // sorted latencies by interval of write time
}

// result summarises what was read of the written lines 1..written, written
// from start on; every is the interval of the series (0: none).
func (r *reader) result(written int64, start time.Time, every time.Duration) result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := result{seen: r.lines - r.other, unique: r.unique.Load(), other: r.other,
		duplicated: r.duplicated, outOfOrder: r.outOfOrder}
	for seq := int64(1); seq <= written; seq++ {
		if seq >= int64(len(r.seen)) || !r.seen[seq] {
			res.missing++
			if len(res.firstMissing) < 5 {
				res.firstMissing = append(res.firstMissing, seq)
			}
		}
	}
	res.lastAt = r.lastAt
	for i, l := range r.latencies {
		if every <= 0 {
			break
		}
		b := int(time.Unix(0, r.writeTimes[i]).Sub(start) / every)
		for len(res.series) <= b {
			res.series = append(res.series, nil)
		}
		res.series[b] = append(res.series[b], l)
	}
	for _, b := range res.series {
		slices.Sort(b)
	}
	res.latencies = slices.Clone(r.latencies)
	slices.Sort(res.latencies)
	var sum time.Duration
	for _, l := range res.latencies {
		sum += l
	}
	if n := len(res.latencies); n > 0 {
		res.mean = sum / time.Duration(n)
	}
	return res
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// cpuSeconds returns the user plus system CPU time of pid (utime and stime,
// fields 14 and 15 of /proc/PID/stat, in USER_HZ = 100 ticks a second).
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:])) // from field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return float64(utime+stime) / 100, nil
}

// ---------------------------------------------------------------- mount

// mountProc is a running `msb-logfs mount`.
type mountProc struct {
	cmd     *exec.Cmd
	mnt     string
	logPath string
	exited  chan struct{}
	rc      int
	stopped bool
}

// startMount starts `bin mount --home home mnt` and waits until the sandbox
// directory shows in the mount.
func startMount(ctx context.Context, bin, home, mnt, logPath string) (*mountProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "mount", "--home", home, mnt)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Should this process be killed outright, the mount unmounts itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s mount: %w", bin, err)
	}
	m := &mountProc{cmd: cmd, mnt: mnt, logPath: logPath, exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		m.rc = exitCode(err)
		close(m.exited)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(mnt, sandboxName)); err == nil {
			return m, nil
		}
		select {
		case <-m.exited:
			m.stopped = true
			unmountLeftover(mnt)
			return nil, fmt.Errorf("msb-logfs mount exited with status %d before it was ready:\n%s", m.rc, logTail(logPath, 10))
		case <-ctx.Done():
			m.stop(syscall.SIGINT)
			return nil, errors.New("interrupted")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.stop(syscall.SIGINT)
			return nil, fmt.Errorf("msb-logfs mount not ready within 30 s:\n%s", logTail(logPath, 10))
		}
	}
}

// stop sends sig and waits up to 10 s, then SIGKILL; a mount still left is
// unmounted (detached as a last resort). It returns the process's exit
// status and how long it took to exit.
func (m *mountProc) stop(sig syscall.Signal) (rc int, took time.Duration) {
	if m.stopped {
		return m.rc, 0
	}
	m.stopped = true
	start := time.Now()
	_ = m.cmd.Process.Signal(sig)
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		log.Printf("msb-logfs mount (pid %d) still running 10 s after %v: killing it", m.cmd.Process.Pid, sig)
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
	took = time.Since(start)
	if isMounted(m.mnt) {
		log.Printf("msb-logfs mount left %s mounted", m.mnt)
		unmountLeftover(m.mnt)
		if m.rc == 0 {
			m.rc = -1
		}
	}
	return m.rc, took
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.ExitCode() >= 0 {
			return ee.ExitCode()
		}
		return 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
	}
	return -1
}

// isMounted reports whether dir is a mountpoint in /proc/self/mounts.
func isMounted(dir string) bool {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return false
	}
	for l := range strings.SplitSeq(string(data), "\n") {
		if fields := strings.Fields(l); len(fields) > 1 && unescapeMount(fields[1]) == dir {
			return true
		}
	}
	return false
}

// unescapeMount undoes the octal escapes (\040 for a space) of a mounts field.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountLeftover unmounts dir if it is still mounted, lazily if need be.
func unmountLeftover(dir string) {
	if !isMounted(dir) {
		return
	}
	if err := syscall.Unmount(dir, 0); err != nil {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			log.Printf("could not unmount %s: %v", dir, err)
		}
	}
}

// cleanupWork removes the work directory, but never while something is
// still mounted inside it.
func cleanupWork(work, mnt string) {
	unmountLeftover(mnt)
	if isMounted(mnt) {
		log.Printf("%s is still mounted: leaving %s", mnt, work)
		return
	}
	if err := os.RemoveAll(work); err != nil {
		log.Printf("clean up: %v", err)
	}
}

// binary returns bin, or builds ./cmd/msb-logfs into work when bin is "".
func binary(bin, work string) (string, error) {
	if bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", err
		}
		return filepath.Abs(bin)
	}
	out := filepath.Join(work, "msb-logfs")
	cmd := exec.Command("go", "build", "-o", out, "github.com/microsandbox/msb-logfs/cmd/msb-logfs")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/msb-logfs (run from inside the module, or pass -bin): %w", err)
	}
	return out, nil
}

// ---------------------------------------------------------------- output

func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	lines = lines[max(0, len(lines)-n):]
	return "    " + strings.Join(lines, "\n    ") + "\n"
}

func firstOf(seqs []int64) string {
	if len(seqs) == 0 {
		return ""
	}
	s := make([]string, len(seqs))
	for i, q := range seqs {
		s[i] = strconv.FormatInt(q, 10)
	}
	return " (first: seq " + strings.Join(s, ", ") + ")"
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}
