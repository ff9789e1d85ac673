package logline_test

import (
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// TestFormatTime: UTC, milliseconds, truncated (not rounded).
func TestFormatTime(t *testing.T) {
	for ns, want := range map[logline.Time]string{
		{}: "1970-01-01T00:00:00.000Z",
		testutil.PlusNs(testutil.NsAt(0), 999999999):                 "2026-05-01T10:00:00.999Z",
		testutil.PlusNs(testutil.NsAt(0), 1500000):                   "2026-05-01T10:00:00.001Z",
		logline.UnixNanoTime(-1):                                     "1969-12-31T23:59:59.999Z",
		logline.UnixNanoTime(-1000000001):                            "1969-12-31T23:59:58.999Z",
		testutil.PlusNs(testutil.NsAt(86400000), -1):                 "2026-05-02T09:59:59.999Z",
		logline.TimeOf(time.Date(2262, 4, 11, 0, 0, 0, 0, time.UTC)): "2262-04-11T00:00:00.000Z",
	} {
		if got := logline.FormatTime(ns); got != want || len(got) != logline.TimeLen {
			t.Errorf("FormatTime(%v) = %q, want %q", ns, got, want)
		}
	}
	// The formatter caches the second: alternate between two seconds.
	var f logline.TimeFormatter
	for i := range 10 {
		ns := testutil.NsAt(int64(i%2) * 1000)
		if got, want := string(f.Format(ns)), logline.FormatTime(ns); got != want {
			t.Fatalf("cached format %q, want %q", got, want)
		}
	}
}
