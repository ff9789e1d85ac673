package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
)

// ---------------------------------------------------------------- extra reader

// extraReader reads merged.follow through a raw blocking fd and reports
// when it first sees marker, the line the wake-up appends.
type extraReader struct {
	f      *os.File
	marker string
	saw    chan time.Time // when it saw marker
	done   chan struct{}  // closed when it got end of file or an error
}

func startExtra(b *benchmount.Bench) (*extraReader, error) {
	f, err := b.Follow("merged.follow")
	if err != nil {
		return nil, err
	}
	e := &extraReader{f: f, marker: fmt.Sprintf("idle-bench wake-up %d", time.Now().UnixNano()),
		saw: make(chan time.Time, 1), done: make(chan struct{})}
	go e.run()
	return e, nil
}

func (e *extraReader) run() {
	defer close(e.done)
	br := bufio.NewReaderSize(e.f, 1<<16)
	for {
		line, err := br.ReadSlice('\n')
		if bytes.Contains(line, []byte(e.marker)) {
			select {
			case e.saw <- time.Now():
			default:
			}
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
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
		return started, benchmount.ErrInterrupted
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
		c.end, c.rc = time.Now(), benchmount.ExitCode(err)
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
		if benchmount.ProcState(pid) != 'S' {
			continue
		}
		if nr, ok := benchmount.CurrentSyscall(pid); ok && nr != syscall.SYS_READ {
			continue
		}
		n++
	}
	return n
}
