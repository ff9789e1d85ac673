package table

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRatio(t *testing.T) {
	for _, c := range []struct {
		x, ref float64
		want   string
	}{
		{2, 1, "2.00x plain"}, {1, 4, "0.25x plain"}, {52.5, 1, "52.5x plain"}, {0, 1, ""}, {1, 0, ""}, {-1, 1, ""},
	} {
		if got := Ratio(c.x, c.ref, "plain"); got != c.want {
			t.Errorf("Ratio(%v, %v) = %q, want %q", c.x, c.ref, got, c.want)
		}
	}
	if got := Ratios("", "1.00x a", "", "2.00x b"); got != "1.00x a, 2.00x b" {
		t.Errorf("Ratios = %q", got)
	}
}

func TestWrite(t *testing.T) {
	var tb Table
	tb.Header = []string{"rev abc"}
	tb.Add(Row{Name: "grep", Secs: 1.5, Bytes: 3 << 20, Ratio: "1.50x loopback", RSSKiB: 2048})
	tb.Add(Row{Name: "stat", Secs: 0.0002})
	tb.Fail("cp", errors.New("no space"))
	var b strings.Builder
	if err := tb.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"rev abc", "1.50 s", "3.0 MiB", "2.1", "1.50x loopback", "2.0 MiB", // 3 MiB / 1.5 s = 2.1 MB/s
		"200.0 us", "FAILED", "cp: FAILED: no space",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if tb.Failed() != 1 || len(tb.Rows()) != 3 || len(tb.Notes()) != 1 {
		t.Errorf("failed %d, rows %d, notes %d; want 1, 3, 1", tb.Failed(), len(tb.Rows()), len(tb.Notes()))
	}
}

func TestAppendKeepsEarlierRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.txt")
	for _, name := range []string{"first run", "second run"} {
		var tb Table
		tb.Add(Row{Name: name, Secs: 1})
		if err := tb.Append(path); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "first run") || !strings.Contains(string(data), "second run") {
		t.Errorf("results.txt holds:\n%s", data)
	}
	if err := (&Table{}).Append(filepath.Join(path, "not-a-dir")); err == nil {
		t.Error("Append under a file: no error")
	}
}
