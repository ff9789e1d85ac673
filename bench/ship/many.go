package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// benchMany follows many small sandboxes until all are shipped, then
// takes the process's RSS and descriptors.
func benchMany(cfg config, dir string) ([]string, error) {
	home := filepath.Join(dir, "home")
	const perSandbox = 50
	for i := range cfg.sandboxes {
		s, err := msbwriter.Create(home, fmt.Sprintf("sb%05d", i), msbwriter.Options{})
		if err != nil {
			return nil, err
		}
		for j := range perSandbox {
			s.Exec(msbwriter.Chunk{Source: "stdout", Data: fmt.Appendf(nil, "sandbox %d line %d\n", i, j)})
		}
		s.Close()
	}
	snk, err := startSink()
	if err != nil {
		return nil, err
	}
	defer snk.close()
	p, err := start(cfg.bin, "ship", "--home", home, "--to", snk.url, "--state-dir", filepath.Join(dir, "state"))
	if err != nil {
		return nil, err
	}
	want := int64(cfg.sandboxes * perSandbox)
	deadline := time.Now().Add(5 * time.Minute)
	for snk.records.Load() < want {
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			return nil, fmt.Errorf("%d of %d records shipped after 5 minutes", snk.records.Load(), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	shippedAt := time.Since(p.start)
	time.Sleep(2 * time.Second)
	rss, fds := p.rss(), p.fds()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(); err != nil {
		return nil, err
	}
	os.RemoveAll(home)
	return []string{
		fmt.Sprintf("many_sandboxes=%d", cfg.sandboxes),
		fmt.Sprintf("many_shipped_s=%.2f", shippedAt.Seconds()),
		fmt.Sprintf("many_hwm_kib=%d", p.peakKiB()),
		fmt.Sprintf("many_rss_kib_following=%d", rss),
		fmt.Sprintf("many_fds_following=%d", fds),
		fmt.Sprintf("many_max_fds=%d", p.maxFDs),
	}, nil
}
