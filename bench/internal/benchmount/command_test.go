package benchmount

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRunCountsLinesAndMatches(t *testing.T) {
	c := Cmd{Argv: []string{"printf", "a/merged:x\nb/stdout:y\nc/merged:z"}, Limit: 10 * time.Second, Count: true,
		Match: func(l []byte) bool { return bytes.Contains(l, []byte("/merged:")) }}
	got, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lines != 3 || got.Matched != 2 || got.Wall <= 0 {
		t.Errorf("lines %d, matched %d, wall %v; want 3, 2 (the last line has no newline), > 0", got.Lines, got.Matched, got.Wall)
	}
}

func TestRunMatchesLongLinesInPieces(t *testing.T) {
	long := strings.Repeat("x", 3*maxLine) + "/merged:"
	c := Cmd{Argv: []string{"printf", "%s\\nshort/merged:\\n", long}, Limit: 10 * time.Second, Count: true,
		Match: func(l []byte) bool { return len(l) <= maxLine && bytes.HasSuffix(l, []byte("/merged:")) }}
	got, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lines != 2 || got.Matched != 1 {
		t.Errorf("lines %d, matched %d; want 2, 1 (a line is cut at %d bytes)", got.Lines, got.Matched, maxLine)
	}
}

func TestRunTimesOut(t *testing.T) {
	start := time.Now()
	_, err := Run(context.Background(), Cmd{Argv: []string{"sleep", "10"}, Limit: 100 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v to kill a command at a 100 ms limit", took)
	}
}

func TestRunQuotesStderrOfAFailure(t *testing.T) {
	_, err := Run(context.Background(), Cmd{Argv: []string{"sh", "-c", "echo no such thing >&2; exit 3"}, Limit: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "no such thing") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("err = %v, want the exit status and the stderr", err)
	}
	if _, err := Run(context.Background(), Cmd{Limit: time.Second}); err == nil {
		t.Error("no argv: no error")
	}
	if _, err := Run(context.Background(), Cmd{Argv: []string{"true"}}); err == nil {
		t.Error("no limit: no error")
	}
}

// TestRunPeakRSS checks the peak RSS of a command that holds about 64 MiB
// is about that, not this process's own.
func TestRunPeakRSS(t *testing.T) {
	if _, err := os.Stat(gnuTime); err != nil {
		t.Skipf("%s not installed (Debian package time)", gnuTime)
	}
	big, err := Run(context.Background(), Cmd{Argv: []string{"python3", "-c", "b = bytearray(64 << 20); b[::4096] = b'x' * len(b[::4096])"},
		Limit: 30 * time.Second, PeakRSS: true})
	if err != nil {
		t.Skipf("python3: %v", err)
	}
	small, err := Run(context.Background(), Cmd{Argv: []string{"true"}, Limit: 10 * time.Second, PeakRSS: true})
	if err != nil {
		t.Fatal(err)
	}
	if big.MaxRSSKiB < 60<<10 || small.MaxRSSKiB <= 0 || small.MaxRSSKiB > 16<<10 {
		t.Errorf("peak RSS: %d KiB for 64 MiB held, %d KiB for true; want >= 61440 and 1 to 16384", big.MaxRSSKiB, small.MaxRSSKiB)
	}
}
