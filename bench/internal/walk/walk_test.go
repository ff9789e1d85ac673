package walk

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/bench/internal/benchmount"
	"github.com/microsandbox/msb-logfs/bench/internal/table"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// fuseUsable skips the test where FUSE cannot be used, unless
// MSB_LOGFS_REQUIRE_FUSE=1.
func fuseUsable(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err == nil {
		f.Close()
		if os.Geteuid() == 0 {
			return
		}
		err = os.ErrPermission
	}
	if os.Getenv("MSB_LOGFS_REQUIRE_FUSE") == "1" {
		t.Fatalf("FUSE required (MSB_LOGFS_REQUIRE_FUSE=1): %v", err)
	}
	t.Skipf("FUSE not usable as this user (%v); MSB_LOGFS_REQUIRE_FUSE=1 fails instead", err)
}

// build builds a command of the module into dir.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "github.com/microsandbox/msb-logfs/"+pkg)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// TestRunThroughRealMounts runs the whole walk, small, through real
// mounts of msb-logfs and of the loopback: every row is filled and none
// failed, and nothing is left mounted.
func TestRunThroughRealMounts(t *testing.T) {
	fuseUsable(t)
	tmp := t.TempDir()
	big := filepath.Join(tmp, "big-home")
	if err := msbwriter.GenerateCorpus(big, "big", msbwriter.CorpusOptions{TotalBytes: 2 << 20, RotateAt: 1 << 20, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "scratch")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Bin: build(t, tmp, "cmd/msb-logfs"), Loopback: build(t, tmp, "bench/loopback"), Dir: dir, Keep: tmp,
		Walk:  Small{Count: 24, Exec: 20, Runtime: 5, Kernel: 5, Width: 2},
		Scale: Small{Count: 30, Exec: 40, Runtime: 5, Kernel: 5, Width: 2},
		Stats: 10, Idle: 10 * time.Millisecond, Limit: time.Minute, NoFile: 1024, Big: Big{Home: big, Name: "big"},
	}
	var tb table.Table
	if err := Run(context.Background(), cfg, &tb); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	tb.Write(&out)
	if tb.Failed() != 0 {
		t.Fatalf("%d rows failed:\n%s", tb.Failed(), out.String())
	}
	checkRows(t, tb.Rows(), out.String())
	if benchmount.UnmountUnder(dir) {
		t.Errorf("mounts left under %s", dir)
	}
}

// checkRows checks that the rows the walk promises are there, timed, with
// their ratios.
func checkRows(t *testing.T, rows []table.Row, text string) {
	t.Helper()
	byName := map[string]table.Row{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	for _, want := range []struct{ name, ratio string }{
		{"walk: grep -r, first run", "loopback, "}, {"walk: grep -r again, nothing changed", "plain"},
		{"walk: cp -r", "loopback, "}, {"walk: cat merged of 10 cold sandboxes", "loopback, "},
		{"walk: warm cat big/merged", "plain's speed"}, {"scale 30: grep -r ERROR", "6 of them"},
		{"scale 30: find | wc -l", "logs"}, {"scale 30: du -s", "logs"}, {"  wall time/stat, mount", "plain"},
	} {
		r, ok := byName[want.name]
		if !ok || r.Secs <= 0 || !strings.Contains(r.Ratio, want.ratio) {
			t.Errorf("row %q: %+v (found %v), want a time and a ratio with %q:\n%s", want.name, r, ok, want.ratio, text)
		}
	}
	if r := byName["walk: mmap(MAP_SHARED) of merged"]; r.Ratio != "works, equals read()" && !strings.Contains(r.Ratio, syscall.ENODEV.Error()) {
		t.Errorf("mmap row: %q, want works or ENODEV", r.Ratio)
	}
	for _, name := range []string{"walk: mount peak RSS (VmHWM)", "scale 30: peak RSS", "scale 30: RSS growth per node"} {
		found := false
		for _, r := range rows {
			found = found || (strings.HasPrefix(r.Name, name) && (r.RSSKiB > 0 || strings.Contains(r.Name, "per node")))
		}
		if !found {
			t.Errorf("no row %q with an RSS:\n%s", name, text)
		}
	}
}
