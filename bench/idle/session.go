package main

import (
	"context"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// session is one run once the mount is up: the mount process, the sandbox
// it shows, the readers and the figures taken of them.
type session struct {
	pid   int    // of the mount process
	mnt   string // its mountpoint
	sb    *msbwriter.Sandbox
	extra *extraReader
	cats  []*cat
	f     figures
}

// measure starts the cats and waits until they are blocked, takes the
// figures of the idle window, and then wakes the readers up.
func (s *session) measure(ctx context.Context, cfg config, dir string, errFile *os.File) error {
	if err := s.start(ctx, dir, cfg.readers, errFile); err != nil {
		return err
	}
	if err := s.idleWindow(ctx, cfg.measure); err != nil {
		return err
	}
	return s.wake(ctx)
}

// killCats kills the cats still running.
func (s *session) killCats() {
	for _, c := range s.cats {
		c.kill()
	}
}

// start starts n cats of the follow files of dir and waits until every one
// is blocked in its read.
func (s *session) start(ctx context.Context, dir string, n int, errFile *os.File) error {
	cpuBefore, _ := benchmount.CPUSeconds(s.pid)
	t0 := time.Now()
	var err error
	s.cats, err = startCats(ctx, dir, n, errFile)
	if err != nil {
		return err
	}
	s.f.readers = len(s.cats)
	s.f.started = time.Since(t0)
	if err := s.settle(ctx, t0); err != nil {
		return err
	}
	s.f.settled = time.Since(t0)
	cpuSetup, _ := benchmount.CPUSeconds(s.pid)
	s.f.setupCPU = cpuSetup - cpuBefore
	return nil
}

// settle waits until every cat is blocked in its read: at least 2 s after
// t0, at most 60.
func (s *session) settle(ctx context.Context, t0 time.Time) error {
	for {
		if !sleep(ctx, 100*time.Millisecond) {
			return benchmount.ErrInterrupted
		}
		s.f.blocked = countBlocked(s.cats, s.mnt)
		if since := time.Since(t0); (s.f.blocked == len(s.cats) && since >= 2*time.Second) || since > 60*time.Second {
			return nil
		}
	}
}

// idleWindow writes nothing for d and takes what the mount process used
// meanwhile, and what it holds and how the readers are at the end.
func (s *session) idleWindow(ctx context.Context, d time.Duration) error {
	f := &s.f
	cpu0, err := benchmount.CPUSeconds(s.pid)
	if err != nil {
		return err
	}
	cs0 := benchmount.ContextSwitches(s.pid)
	w0 := time.Now()
	if !sleep(ctx, d) {
		return benchmount.ErrInterrupted
	}
	f.window = time.Since(w0)
	cpu1, err := benchmount.CPUSeconds(s.pid)
	if err != nil {
		return err
	}
	f.switches = benchmount.ContextSwitches(s.pid) - cs0
	f.idleCPU = cpu1 - cpu0
	f.inotify, f.watches = benchmount.InotifyInstances(s.pid)
	f.threads = benchmount.StatusField(s.pid, "Threads")
	f.rss, f.hwm = benchmount.StatusField(s.pid, "VmRSS"), benchmount.StatusField(s.pid, "VmHWM")
	f.blockedAfter = countBlocked(s.cats, s.mnt)
	for _, c := range s.cats {
		if !c.exited() {
			f.alive++
		}
	}
	return nil
}

// wake appends one line per source, so every view has something new, and
// waits for the extra reader to see it and for the cats to read.
func (s *session) wake(ctx context.Context) error {
	rchar0 := make([]int64, len(s.cats))
	for i, c := range s.cats {
		rchar0[i] = benchmount.ReadChars(c.pid())
	}
	cpuWake0, _ := benchmount.CPUSeconds(s.pid)
	wake := time.Now()
	for _, src := range []string{msbwriter.SourceStdout, msbwriter.SourceStderr, msbwriter.SourceOutput, msbwriter.SourceSystem} {
		if err := s.sb.Exec(msbwriter.Chunk{Source: src, Data: []byte(s.extra.marker + " " + src + "\n"), ID: 9, HasID: true}); err != nil {
			return err
		}
	}
	s.f.extraWake = -1
	select {
	case t := <-s.extra.saw:
		s.f.extraWake = t.Sub(wake)
	case <-time.After(5 * time.Second):
	case <-ctx.Done():
		return benchmount.ErrInterrupted
	}
	if err := s.waitWoken(ctx, wake, rchar0); err != nil {
		return err
	}
	cpuWake1, _ := benchmount.CPUSeconds(s.pid)
	s.f.wakeCPU = cpuWake1 - cpuWake0
	return nil
}

// waitWoken waits up to 2 s after wake for every cat to have read more
// than rchar0 (its rchar before).
func (s *session) waitWoken(ctx context.Context, wake time.Time, rchar0 []int64) error {
	woken := make([]bool, len(s.cats))
	for s.f.woken < len(s.cats) && time.Since(wake) < 2*time.Second {
		for i, c := range s.cats {
			if !woken[i] && benchmount.ReadChars(c.pid()) > rchar0[i] {
				woken[i] = true
				s.f.woken++
				s.f.lastWoken = time.Since(wake)
			}
		}
		if s.f.woken < len(s.cats) && !sleep(ctx, 5*time.Millisecond) {
			return benchmount.ErrInterrupted
		}
	}
	return nil
}

// terminate sends SIGTERM to the mount: every cat must get end of file and
// exit within 5 s, and the extra reader too.
func (s *session) terminate(m *benchmount.Mount) {
	f := &s.f
	term := time.Now()
	f.mountRC, f.mountTook = m.Stop(syscall.SIGTERM)
	deadline := time.After(5 * time.Second)
	var exits []time.Duration
	for _, c := range s.cats {
		select {
		case <-c.done:
		case <-deadline:
		}
		if !c.exited() {
			f.stuck++
			continue
		}
		if c.rc == 0 {
			f.exited0++
		} else {
			f.exitedOther++
		}
		exits = append(exits, c.end.Sub(term))
	}
	slices.Sort(exits)
	if len(exits) > 0 {
		f.firstExit, f.halfExit, f.lastExit = exits[0], benchmount.Percentile(exits, 0.5), exits[len(exits)-1]
	}
	select {
	case <-s.extra.done:
		f.extraEOF = true
	case <-time.After(time.Second):
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
