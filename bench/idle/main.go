// Command idle measures what many idle followers cost msb-logfs: it mounts
// a sandbox, starts -readers `cat MNT/<sandbox>/X.follow` processes (spread
// over the five follow files) that block at the end of what exists, and then,
// while nothing is written for -measure, takes the mount process's CPU time,
// context switches, inotify instances, threads and memory. A follower must
// cost nothing while idle: one inotify instance for the whole process,
// a slow safety poll, no busy polling and no thread per reader.
//
// Then it appends one line to each source (stdout, stderr, output, system)
// and checks that they wake up: an extra reader of merged.follow, opened
// with a raw blocking open(2), must see its line within 1 s, and every cat
// must read something within 2 s (seen in /proc/PID/io, as their output
// goes to /dev/null). Last it sends SIGTERM to the mount and checks that all
// the cats exit within 5 s (a cat that exits with an error rather than at
// end of file is reported, not failed), and removes everything it made.
//
// Usage:
//
//	idle [-bin msb-logfs] [-readers 1000] [-measure 10s] [-kv FILE]
//
// It exits 1 if a check fails; -kv also writes the figures as key=value
// lines (for bench/run.sh).
//
// The extra reader does not use os.Open: that would put a FUSE file in
// non-blocking mode and park on EAGAIN waiting for a poll readiness that
// go-fuse never reports (it answers POLL with ENOSYS).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
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

const sandboxName = "idle"

// followFiles are the follow files the cats are spread over.
var followFiles = []string{"merged.follow", "stdout.follow", "stderr.follow", "output.follow", "system.follow"}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture.
const clockTicks = 100

func main() {
	log.SetFlags(0)
	log.SetPrefix("idle: ")

	var cfg config
	flag.StringVar(&cfg.bin, "bin", "", "msb-logfs binary (default: go build ./cmd/msb-logfs into a temporary directory)")
	flag.IntVar(&cfg.readers, "readers", 1000, "number of idle `cat X.follow` processes")
	flag.DurationVar(&cfg.measure, "measure", 10*time.Second, "idle window over which the mount's CPU time is measured")
	flag.StringVar(&cfg.kv, "kv", "", "also write the figures as key=value lines to `FILE`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(),
			"Usage: %s [flags]\n\n"+
				"Measures what -readers idle `cat X.follow` processes cost a real\n"+
				"msb-logfs mount (CPU over -measure, inotify instances, threads,\n"+
				"memory), then that one append wakes them all and that SIGTERM to the\n"+
				"mount ends them.\n\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 || cfg.readers <= 0 || cfg.measure <= 0 {
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
	bin     string
	readers int
	measure time.Duration
	kv      string
}

var errInterrupted = errors.New("interrupted")

func run(ctx context.Context, cfg config) (ok bool, err error) {
	work, err := os.MkdirTemp("", "msb-logfs-idle.")
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

	sb, err := msbwriter.Create(home, sandboxName, msbwriter.Options{})
	if err != nil {
		return false, err
	}
	defer sb.Close()
	if err := fill(sb); err != nil {
		return false, err
	}

	m, err := startMount(ctx, bin, home, mnt, filepath.Join(work, "mount.log"))
	if err != nil {
		return false, err
	}
	defer m.stop(syscall.SIGINT) // no-op once stopped below
	pid := m.cmd.Process.Pid
	dir := filepath.Join(mnt, sandboxName)

	// The extra reader, with a raw blocking fd.
	path := filepath.Join(dir, "merged.follow")
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	extra := os.NewFile(uintptr(fd), path)
	defer extra.Close()
	marker := fmt.Sprintf("idle-bench wake-up %d", time.Now().UnixNano())
	sawMarker, extraDone := make(chan time.Time, 1), make(chan struct{})
	go func() {
		defer close(extraDone)
		br := bufio.NewReaderSize(extra, 1<<16)
		for {
			line, err := br.ReadSlice('\n')
			if bytes.Contains(line, []byte(marker)) {
				select {
				case sawMarker <- time.Now():
				default:
				}
			}
			if err != nil && err != bufio.ErrBufferFull {
				return
			}
		}
	}()

	// The cats.
	errPath := filepath.Join(work, "cats.err")
	errFile, err := os.Create(errPath)
	if err != nil {
		return false, err
	}
	defer errFile.Close()
	fmt.Printf("idle: %d cat readers of the %d follow files of a mount, msb-logfs pid %d\n",
		cfg.readers, len(followFiles), pid)
	cpuBefore, _ := cpuSeconds(pid)
	t0 := time.Now()
	cats, err := startCats(ctx, dir, cfg.readers, errFile)
	defer func() {
		for _, c := range cats {
			c.kill()
		}
	}()
	if err != nil {
		return false, err
	}
	started := time.Since(t0)

	// Wait until every cat is blocked in its read: at least 2 s, at most 60.
	var blocked int
	for {
		if !sleep(ctx, 100*time.Millisecond) {
			return false, errInterrupted
		}
		blocked = countBlocked(cats, mnt)
		if since := time.Since(t0); (blocked == len(cats) && since >= 2*time.Second) || since > 60*time.Second {
			break
		}
	}
	settled := time.Since(t0)
	cpuSetup, _ := cpuSeconds(pid)
	cpuSetup -= cpuBefore

	// The idle window.
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return false, err
	}
	cs0 := contextSwitches(pid)
	w0 := time.Now()
	if !sleep(ctx, cfg.measure) {
		return false, errInterrupted
	}
	window := time.Since(w0)
	cpu1, err := cpuSeconds(pid)
	if err != nil {
		return false, err
	}
	cs1 := contextSwitches(pid)
	idleCPU := cpu1 - cpu0
	inotify, watches := inotifyInstances(pid)
	threads := statusField(pid, "Threads")
	rss, hwm := statusField(pid, "VmRSS"), statusField(pid, "VmHWM")
	blockedAfter := countBlocked(cats, mnt)
	alive := 0
	for _, c := range cats {
		if !c.exited() {
			alive++
		}
	}

	// Wake them up: one line per source, so every view has something new.
	rchar0 := make([]int64, len(cats))
	for i, c := range cats {
		rchar0[i] = readChars(c.pid())
	}
	cpuWake0, _ := cpuSeconds(pid)
	wake := time.Now()
	for _, src := range []string{msbwriter.SourceStdout, msbwriter.SourceStderr, msbwriter.SourceOutput, msbwriter.SourceSystem} {
		if err := sb.Exec(msbwriter.Chunk{Source: src, Data: []byte(marker + " " + src + "\n"), ID: 9, HasID: true}); err != nil {
			return false, err
		}
	}
	var extraWake time.Duration = -1
	select {
	case t := <-sawMarker:
		extraWake = t.Sub(wake)
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
		return false, errInterrupted
	}
	woken, lastWoken := make([]bool, len(cats)), time.Duration(0)
	nWoken := 0
	for nWoken < len(cats) && time.Since(wake) < 2*time.Second {
		for i, c := range cats {
			if !woken[i] && readChars(c.pid()) > rchar0[i] {
				woken[i] = true
				nWoken++
				lastWoken = time.Since(wake)
			}
		}
		if nWoken < len(cats) && !sleep(ctx, 5*time.Millisecond) {
			return false, errInterrupted
		}
	}

	cpuWake1, _ := cpuSeconds(pid)
	wakeCPU := cpuWake1 - cpuWake0

	// SIGTERM the mount: every cat must get end of file and exit.
	term := time.Now()
	mountRC, mountTook := m.stop(syscall.SIGTERM)
	deadline := time.After(5 * time.Second)
	var exits []time.Duration
	exited0, exitedOther, stuck := 0, 0, 0
	for _, c := range cats {
		select {
		case <-c.done:
		case <-deadline:
		}
		if !c.exited() {
			stuck++
			continue
		}
		if c.rc == 0 {
			exited0++
		} else {
			exitedOther++
		}
		exits = append(exits, c.end.Sub(term))
	}
	slices.Sort(exits)
	var firstExit, halfExit, lastExit time.Duration
	if len(exits) > 0 {
		firstExit, halfExit, lastExit = exits[0], exits[(len(exits)-1)/2], exits[len(exits)-1]
	}
	extraEOF := false
	select {
	case <-extraDone:
		extraEOF = true
	case <-time.After(time.Second):
	}

	ok = inotify == 1 && blocked == len(cats) && blockedAfter == len(cats) && alive == len(cats) &&
		extraWake >= 0 && extraWake <= time.Second && nWoken == len(cats) &&
		stuck == 0 && mountRC == 0 && extraEOF

	fmt.Printf("  readers started   %d in %s; all blocked in read: %d/%d after %s (mount CPU %.2f s for the opens)\n",
		len(cats), fmtDur(started), blocked, len(cats), fmtDur(settled), cpuSetup)
	fmt.Printf("  idle window       %s: mount CPU %.2f s = %.2f%% of one core; %d context switches (%.1f/s)\n",
		fmtDur(window), idleCPU, 100*idleCPU/window.Seconds(), cs1-cs0, float64(cs1-cs0)/window.Seconds())
	fmt.Printf("  inotify           %d instance(s), %d watches\n", inotify, watches)
	fmt.Printf("  threads           %d\n", threads)
	fmt.Printf("  memory            VmRSS %s, VmHWM %s\n", fmtKiB(rss), fmtKiB(hwm))
	fmt.Printf("  after the window  %d/%d readers alive, %d blocked\n", alive, len(cats), blockedAfter)
	if extraWake >= 0 {
		fmt.Printf("  wake-up           extra reader (raw fd, merged.follow) saw its line after %s\n", fmtDur(extraWake))
	} else {
		fmt.Printf("  wake-up           EXTRA READER DID NOT SEE ITS LINE within 5 s\n")
	}
	fmt.Printf("  wake-up           %d/%d cats read the new lines within 2 s (last after %s; /proc polled); mount CPU %.2f s\n",
		nWoken, len(cats), fmtDur(lastWoken), wakeCPU)
	fmt.Printf("  SIGTERM           %d/%d cats exited within 5 s (exit 0: %d, other: %d): first %s, half %s, last %s after SIGTERM\n",
		exited0+exitedOther, len(cats), exited0, exitedOther, fmtDur(firstExit), fmtDur(halfExit), fmtDur(lastExit))
	fmt.Printf("                    extra reader got end of file: %v\n", extraEOF)
	if exitedOther > 0 {
		fmt.Printf("  NOTE              %d cats exited non-zero after SIGTERM instead of ending at end of file (their errors below)\n", exitedOther)
	}
	fmt.Printf("                    mount exited %d after %s\n", mountRC, fmtDur(mountTook))
	if tail := logTail(errPath, 5); tail != "" {
		fmt.Printf("  cat errors (last lines):\n%s", tail)
	}
	if ok {
		fmt.Println("  result            OK")
	} else {
		fmt.Println("  result            FAILED")
		if tail := logTail(m.logPath, 10); tail != "" {
			fmt.Printf("  mount log (last lines):\n%s", tail)
		}
	}

	if cfg.kv != "" {
		var b strings.Builder
		kv := func(k string, v any) { fmt.Fprintf(&b, "%s=%v\n", k, v) }
		kv("readers", len(cats))
		kv("blocked", blocked)
		kv("settle_s", settled.Seconds())
		kv("setup_cpu_s", cpuSetup)
		kv("window_s", window.Seconds())
		kv("idle_cpu_s", idleCPU)
		kv("idle_cpu_pct", fmt.Sprintf("%.3f", 100*idleCPU/window.Seconds()))
		kv("context_switches", cs1-cs0)
		kv("inotify", inotify)
		kv("watches", watches)
		kv("threads", threads)
		kv("rss_kib", rss)
		kv("hwm_kib", hwm)
		kv("extra_wake_s", extraWake.Seconds())
		kv("woken", nWoken)
		kv("last_woken_s", lastWoken.Seconds())
		kv("wake_cpu_s", wakeCPU)
		kv("exited", exited0+exitedOther)
		kv("exited_nonzero", exitedOther)
		kv("last_exit_s", lastExit.Seconds())
		kv("mount_exit", mountRC)
		kv("ok", ok)
		if err := os.WriteFile(cfg.kv, []byte(b.String()), 0o644); err != nil {
			return ok, err
		}
	}
	return ok, nil
}

// fill gives the sandbox some content in every source and both text logs.
func fill(sb *msbwriter.Sandbox) error {
	t := time.Now().Add(-time.Hour)
	sources := []string{msbwriter.SourceStdout, msbwriter.SourceStderr, msbwriter.SourceOutput, msbwriter.SourceSystem}
	for i := range 400 {
		src := sources[i%len(sources)]
		c := msbwriter.Chunk{Time: t.Add(time.Duration(i) * time.Second), Source: src,
			Data: fmt.Appendf(nil, "%s line %d of the idle benchmark\n", src, i), ID: 1, HasID: true}
		if err := sb.Exec(c); err != nil {
			return err
		}
	}
	for i := range 20 {
		ts := t.Add(time.Duration(i) * time.Second).UTC().Format("2006-01-02T15:04:05.000000Z")
		if err := sb.Runtime(ts + " INFO runtime line " + strconv.Itoa(i)); err != nil {
			return err
		}
		if err := sb.Kernel(fmt.Sprintf("[ %d.000000] kernel line %d", i, i)); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// ---------------------------------------------------------------- cats

// cat is one `cat FILE` reader, its output to /dev/null.
type cat struct {
	cmd  *exec.Cmd
	done chan struct{}
	rc   int
	end  time.Time
}

// startCats starts n cats, spread over the follow files of dir, a few at a
// time. It returns those started even when it fails.
func startCats(ctx context.Context, dir string, n int, stderr *os.File) ([]*cat, error) {
	cats := make([]*cat, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				cats[i], errs[i] = startCat(filepath.Join(dir, followFiles[i%len(followFiles)]), stderr)
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	started := make([]*cat, 0, n)
	for _, c := range cats {
		if c != nil {
			started = append(started, c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return started, fmt.Errorf("starting the readers: %w", err)
	}
	if ctx.Err() != nil {
		return started, errInterrupted
	}
	return started, nil
}

func startCat(path string, stderr *os.File) (*cat, error) {
	cmd := exec.Command("cat", path)
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &cat{cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		c.end, c.rc = time.Now(), exitCode(err)
		close(c.done)
	}()
	return c, nil
}

func (c *cat) pid() int { return c.cmd.Process.Pid }

func (c *cat) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill kills the cat if it still runs and waits for it.
func (c *cat) kill() {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// countBlocked counts the cats that have their file in mnt open and sleep
// in a read(2): the read that waits for new data.
func countBlocked(cats []*cat, mnt string) int {
	n := 0
	for _, c := range cats {
		if c.exited() {
			continue
		}
		pid := c.pid()
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/3", pid))
		if err != nil || !strings.HasPrefix(target, mnt+"/") {
			continue
		}
		if procState(pid) != 'S' {
			continue
		}
		if nr, ok := currentSyscall(pid); ok && nr != syscall.SYS_READ {
			continue
		}
		n++
	}
	return n
}

// ---------------------------------------------------------------- /proc

func procState(pid int) byte {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := statFields(data)
	if len(fields) == 0 || len(fields[0]) == 0 {
		return 0
	}
	return fields[0][0]
}

// statFields returns the fields of /proc/PID/stat after the command name,
// starting with the state (field 3).
func statFields(data []byte) []string {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

// cpuSeconds returns the user plus system CPU time of pid, all threads.
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := statFields(data)
	if len(f) < 13 { // utime and stime are fields 14 and 15: f[11], f[12]
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return float64(utime+stime) / clockTicks, nil
}

// contextSwitches sums the voluntary and involuntary context switches of
// pid's threads (threads that exit take theirs with them).
func contextSwitches(pid int) int64 {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var n int64
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
		if err != nil {
			continue
		}
		for l := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += c
			}
		}
	}
	return n
}

// statusField returns the number of field name of /proc/PID/status (kB
// for the memory fields), or -1.
func statusField(pid int, name string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for l := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// inotifyInstances counts pid's inotify file descriptors and their watches.
func inotifyInstances(pid int) (instances, watches int) {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil || target != "anon_inode:inotify" {
			continue
		}
		instances++
		info, _ := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		watches += bytes.Count(info, []byte("inotify wd:"))
	}
	return instances, watches
}

// readChars returns rchar of /proc/PID/io: the bytes pid's read calls
// returned so far, or -1.
func readChars(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for l := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// currentSyscall returns the number of the system call pid sleeps in, from
// /proc/PID/syscall; ok is false when it cannot be read.
func currentSyscall(pid int) (nr int, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, false
	}
	nr, err = strconv.Atoi(f[0])
	return nr, err == nil
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
			return nil, errInterrupted
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

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}

func fmtKiB(k int64) string {
	if k < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(k)/1024)
}
