package msbwriter

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestRunLive(t *testing.T) {
	s := newSandbox(t, 4<<10)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunLive(ctx, s, 1000) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunLive: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunLive did not return after its context ended")
	}
	dir := s.LogsDir()
	st := readChain(t, dir)
	if st.malformed != 0 || st.lines < 100 {
		t.Fatalf("%d lines, %d malformed", st.lines, st.malformed)
	}
	for src := range knownSources {
		if st.sources[src] == 0 {
			t.Errorf("no %s lines in %v", src, st.sources)
		}
	}
	if inode(t, dir, ChainName(1)) == 0 {
		t.Error("no rotation at RotateAt 4 KiB")
	}
	if len(st.ids) < 2 {
		t.Errorf("sessions %v, want several", st.ids)
	}
	rt, k := readFile(t, dir, RuntimeLog), readFile(t, dir, KernelLog)
	for _, l := range bytes.Split(bytes.TrimSuffix(rt, []byte("\n")), []byte("\n")) {
		if !runtimeRE.Match(l) {
			t.Errorf("runtime.log line %q", l)
		}
	}
	for _, l := range bytes.Split(bytes.TrimSuffix(k, []byte("\n")), []byte("\n")) {
		if !uptimeRE.Match(l) {
			t.Errorf("kernel.log line %q", l)
		}
	}
}

func TestRunLiveStopsAtOnce(t *testing.T) {
	s := newSandbox(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := RunLive(ctx, s, 0); err != nil {
		t.Fatal(err)
	}
	if b := readFile(t, s.LogsDir(), ExecLog); len(b) != 0 {
		t.Fatalf("wrote %d exec bytes after cancellation", len(b))
	}
}

func TestLivePacing(t *testing.T) {
	for _, tc := range []struct {
		rate   int
		period time.Duration
		batch  int
	}{{20, 50 * time.Millisecond, 1}, {200, 5 * time.Millisecond, 1}, {1000, 5 * time.Millisecond, 5}, {100000, 5 * time.Millisecond, 500}} {
		p, b := livePacing(tc.rate)
		if p != tc.period || b != tc.batch {
			t.Errorf("livePacing(%d) = %v, %d; want %v, %d", tc.rate, p, b, tc.period, tc.batch)
		}
	}
}
