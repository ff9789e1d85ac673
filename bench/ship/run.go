package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// proc is a measured run of a command: wall time, and the most
// descriptors and the peak RSS (VmHWM) seen while it ran, sampled from
// /proc: the child's rusage would report the bench process's own peak,
// which a child started by os/exec inherits until its exec.
type proc struct {
	cmd     *exec.Cmd
	start   time.Time
	stderr  bytes.Buffer
	done    chan struct{} // closed when the command has ended
	watched chan struct{} // closed when the sampler has stopped
	maxFDs  int           // written by the sampler until watched is closed
	hwmKiB  int64         // likewise
	elapsed time.Duration
	err     error
}

func start(name string, args ...string) (*proc, error) {
	p := &proc{cmd: exec.Command(name, args...), done: make(chan struct{}), watched: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go p.watch()
	go func() {
		p.err = p.cmd.Wait()
		p.elapsed = time.Since(p.start)
		close(p.done)
	}()
	return p, nil
}

// watch samples the process's descriptors and peak RSS every 20 ms until
// it ends.
func (p *proc) watch() {
	defer close(p.watched)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	pid := p.cmd.Process.Pid
	for {
		p.maxFDs = max(p.maxFDs, benchmount.FDCount(pid))
		p.hwmKiB = max(p.hwmKiB, benchmount.StatusField(pid, "VmHWM"))
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// fds returns the process's open descriptors now.
func (p *proc) fds() int { return benchmount.FDCount(p.cmd.Process.Pid) }

// rss returns the process's resident set now, in KiB.
func (p *proc) rss() int64 { return benchmount.StatusField(p.cmd.Process.Pid, "VmRSS") }

// wait waits for the end of the command and of its sampler, and returns
// the command's error with stderr's tail.
func (p *proc) wait() error {
	<-p.done
	<-p.watched
	if p.err != nil {
		return fmt.Errorf("%v: %s", p.err, tail(p.stderr.String()))
	}
	return nil
}

// peakKiB returns the peak RSS sampled while the process ran.
func (p *proc) peakKiB() int64 { return p.hwmKiB }

func tail(s string) string {
	if len(s) > 400 {
		return "…" + s[len(s)-400:]
	}
	return s
}

// logsBytes returns the bytes of a sandbox's log files.
func logsBytes(home, name string) int64 {
	var n int64
	ents, _ := os.ReadDir(msbwriter.LogsDir(home, name))
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}

// benchOnce ships the corpus sandbox into the in-process sink.
func benchOnce(cfg config, dir string) ([]string, error) {
	ref, err := start(cfg.bin, "logs", "--home", cfg.home, "--source", "all", "--json", cfg.sandbox)
	if err != nil {
		return nil, err
	}
	if err := ref.wait(); err != nil {
		return nil, fmt.Errorf("logs --json: %w", err)
	}
	s, err := startSink()
	if err != nil {
		return nil, err
	}
	defer s.close()
	var p *proc
	for i := range cfg.repeat { // the fastest run: the machine may be shared
		s.records.Store(0)
		s.bytes.Store(0)
		run, err := start(cfg.bin, "ship", "--home", cfg.home, "--to", s.url, "--state-dir", filepath.Join(dir, fmt.Sprintf("state%d", i)), "--once", cfg.sandbox)
		if err != nil {
			return nil, err
		}
		if err := run.wait(); err != nil {
			return nil, fmt.Errorf("ship --once: %w", err)
		}
		if p == nil || run.elapsed < p.elapsed {
			p = run
		}
	}
	secs := p.elapsed.Seconds()
	size := logsBytes(cfg.home, cfg.sandbox)
	return []string{
		fmt.Sprintf("once_s=%.3f", secs),
		fmt.Sprintf("once_records=%d", s.records.Load()),
		fmt.Sprintf("once_records_per_s=%.0f", float64(s.records.Load())/secs),
		fmt.Sprintf("once_log_bytes=%d", size),
		fmt.Sprintf("once_mb_per_s=%.1f", float64(size)/1e6/secs),
		fmt.Sprintf("once_body_mb_per_s=%.1f", float64(s.bytes.Load())/1e6/secs),
		fmt.Sprintf("once_hwm_kib=%d", p.peakKiB()),
		fmt.Sprintf("once_max_fds=%d", p.maxFDs),
		fmt.Sprintf("once_ref_logs_json_s=%.3f", ref.elapsed.Seconds()),
		fmt.Sprintf("once_vs_logs_json=%.2f", secs/ref.elapsed.Seconds()),
	}, nil
}

// benchCollector ships the corpus sandbox into a real Collector.
func benchCollector(cfg config, dir string) ([]string, error) {
	if cfg.otelcol == "" {
		return []string{"collector=skipped"}, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := fmt.Sprintf("receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: %s\nexporters:\n  file:\n    path: %s\nservice:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [file]\n",
		addr, filepath.Join(dir, "out.jsonl"))
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(conf), 0o644)
	col, err := start(cfg.otelcol, "--config", filepath.Join(dir, "config.yaml"))
	if err != nil {
		return nil, err
	}
	defer func() { col.cmd.Process.Signal(syscall.SIGTERM); col.wait() }()
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 300 {
			return nil, fmt.Errorf("the Collector does not listen: %s", tail(col.stderr.String()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	p, err := start(cfg.bin, "ship", "--home", cfg.home, "--to", "http://"+addr, "--state-dir", filepath.Join(dir, "state"), "--once", cfg.sandbox)
	if err != nil {
		return nil, err
	}
	if err := p.wait(); err != nil {
		return nil, fmt.Errorf("ship --once: %w", err)
	}
	secs := p.elapsed.Seconds()
	size := logsBytes(cfg.home, cfg.sandbox)
	return []string{
		fmt.Sprintf("collector_s=%.3f", secs),
		fmt.Sprintf("collector_mb_per_s=%.1f", float64(size)/1e6/secs),
		fmt.Sprintf("collector_hwm_kib=%d", p.peakKiB()),
	}, nil
}
