package benchmount

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// KV collects figures as key=value lines, one a line in the order added:
// the -kv output that bench/run reads. The zero value is empty.
type KV struct {
	b strings.Builder
}

// Add appends the line key=v, v formatted with %v.
func (k *KV) Add(key string, v any) { fmt.Fprintf(&k.b, "%s=%v\n", key, v) }

// WriteFile writes the lines to path; nothing when path is "".
func (k *KV) WriteFile(path string) error {
	if path == "" {
		return nil
	}
	return os.WriteFile(path, []byte(k.b.String()), 0o644)
}

// Percentile returns the q-quantile of sorted (nearest rank), 0 if empty.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// FormatDuration formats d as µs below a millisecond, ms below a second,
// else s.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}

// LogTail returns the last n lines of the file path, each indented by four
// spaces and ended by a newline, or "" if there are none.
func LogTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	lines = lines[max(0, len(lines)-n):]
	return "    " + strings.Join(lines, "\n    ") + "\n"
}
