package msbwriter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultLiveRate is RunLive's rate when rate is 0: writes per second.
const DefaultLiveRate = 20

// minLivePeriod is the shortest pause between RunLive's batches; faster
// rates write several lines per batch.
const minLivePeriod = 5 * time.Millisecond

// RunLive writes a live, human-readable mix to s until ctx is done, then
// returns nil (or the first write error). About rate writes happen per
// second (0 means DefaultLiveRate): a fake build-and-test run, repeated with
// a new session id each time, with progress counters on stdout, warnings on
// stderr, a coloured PTY progress line on output, lifecycle markers on
// system, INFO lines on runtime.log and uptime lines on kernel.log. Exec
// lines go through s.Exec, so they rotate at s's RotateAt.
func RunLive(ctx context.Context, s *Sandbox, rate int) error {
	if rate <= 0 {
		rate = DefaultLiveRate
	}
	period, batch := livePacing(rate)
	l := &live{s: s, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)), boot: time.Now().Add(-bootOffset)}
	if err := l.kernel("Linux version 6.6.0-microsandbox (demo)"); err != nil {
		return err
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for ctx.Err() == nil {
		for i := 0; i < batch; i++ {
			if err := l.next(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
	return nil
}

// livePacing returns the ticker period and writes per tick for rate writes
// per second.
func livePacing(rate int) (time.Duration, int) {
	period := time.Second / time.Duration(rate)
	if period >= minLivePeriod {
		return period, 1
	}
	batch := int(minLivePeriod / period)
	return time.Duration(batch) * period, batch
}

// live is the state of one RunLive: a sequence of sessions, each a fake
// build of `units` units followed by `tests` tests.
type live struct {
	s       *Sandbox
	rng     *rand.Rand
	boot    time.Time
	session uint64
	phase   int // 0 starting, 1 building, 2 testing, 3 finished
	step    int
	units   int
	tests   int
	failed  int
	writes  int
}

var liveCrates = []string{"serde", "tokio", "hyper", "rand", "regex", "clap", "anyhow", "tracing", "bytes", "mio"}

var liveTests = []string{"parses_empty_input", "rotates_at_limit", "cursor_round_trip", "follows_new_lines", "handles_unicode_é_日本語", "skips_bad_lines", "merges_by_time", "reports_missed_rotation"}

// next performs one write: usually the next step of the current session,
// now and then a runtime.log or kernel.log line.
func (l *live) next() error {
	l.writes++
	switch {
	case l.writes%17 == 0:
		return l.runtime(fmt.Sprintf("INFO runtime: relay stats: session %d, %d writes so far", l.session, l.writes))
	case l.writes%29 == 0:
		return l.kernel(fmt.Sprintf("virtio_balloon virtio3: inflated %d pages", 64*(1+l.rng.IntN(8))))
	}
	switch l.phase {
	case 0:
		return l.start()
	case 1:
		return l.build()
	case 2:
		return l.test()
	}
	return l.finish()
}

func (l *live) start() error {
	l.session++
	l.phase, l.step, l.failed = 1, 0, 0
	l.units, l.tests = 8+l.rng.IntN(12), 6+l.rng.IntN(10)
	if err := l.runtime(fmt.Sprintf("INFO runtime: exec session %d registered", l.session)); err != nil {
		return err
	}
	return l.exec(SourceSystem, fmt.Sprintf("exec session %d started: cargo build && cargo test", l.session))
}

func (l *live) build() error {
	l.step++
	crate := liveCrates[l.rng.IntN(len(liveCrates))]
	if l.step > l.units {
		l.phase, l.step = 2, 0
		return l.exec(SourceStdout, fmt.Sprintf("    Finished dev [unoptimized + debuginfo] target(s) in %d.%02ds\n", l.rng.IntN(30), l.rng.IntN(100)))
	}
	if l.rng.IntN(5) == 0 {
		return l.exec(SourceStderr, fmt.Sprintf("warning: unused variable `x%d` in %s (src/lib.rs:%d)\n", l.step, crate, 10+l.rng.IntN(400)))
	}
	if l.rng.IntN(3) == 0 {
		return l.exec(SourceOutput, progressBar(l.step, l.units))
	}
	return l.exec(SourceStdout, fmt.Sprintf("   Compiling %s v0.%d.%d (%d/%d)\n", crate, l.rng.IntN(10), l.rng.IntN(30), l.step, l.units))
}

// progressBar renders a PTY progress line redrawn in place with '\r'.
func progressBar(done, total int) string {
	const width = 24
	n := done * width / max(total, 1)
	return fmt.Sprintf("\r\x1b[36mBuilding\x1b[0m [%s>%s] %d/%d", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
}

func (l *live) test() error {
	l.step++
	if l.step > l.tests {
		l.phase = 3
		return l.exec(SourceStdout, fmt.Sprintf("\ntest result: %s. %d passed; %d failed\n", verdict(l.failed), l.tests-l.failed, l.failed))
	}
	name := liveTests[l.rng.IntN(len(liveTests))]
	if l.rng.IntN(8) == 0 {
		l.failed++
		if err := l.exec(SourceStderr, fmt.Sprintf("thread '%s' panicked at src/tests.rs:%d:5:\nassertion failed: left == right\n", name, 20+l.rng.IntN(300))); err != nil {
			return err
		}
		return l.exec(SourceOutput, fmt.Sprintf("test %s ... \x1b[31mFAILED\x1b[0m\r\n", name))
	}
	return l.exec(SourceOutput, fmt.Sprintf("test %s ... \x1b[32mok\x1b[0m\r\n", name))
}

func verdict(failed int) string {
	if failed > 0 {
		return "FAILED"
	}
	return "ok"
}

func (l *live) finish() error {
	l.phase = 0
	code := 0
	if l.failed > 0 {
		code = 101
	}
	if err := l.kernel(fmt.Sprintf("process %d exited, status %d", 1000+l.session, code)); err != nil {
		return err
	}
	return l.exec(SourceSystem, fmt.Sprintf("exec session %d exited with code %d", l.session, code))
}

func (l *live) exec(src, data string) error {
	return l.s.Exec(Chunk{Time: time.Now(), Source: src, Data: []byte(data), ID: l.session, HasID: true})
}

func (l *live) runtime(msg string) error {
	return l.s.Runtime(time.Now().UTC().Format(TimeFormat) + " " + msg)
}

// kernel writes an uptime-stamped console line, coloured now and then.
func (l *live) kernel(msg string) error {
	up := time.Since(l.boot)
	if l.rng.IntN(6) == 0 {
		msg = "\x1b[33m" + msg + "\x1b[0m"
	}
	return l.s.Kernel(fmt.Sprintf("[%5d.%06d] %s", up/time.Second, up%time.Second/time.Microsecond, msg))
}
