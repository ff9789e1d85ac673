package chain_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
)

// settle is the racy margin of the tests' file tables: a logs directory
// left alone longer than it vouches for its names.
const settle = 50 * time.Millisecond

// TestOpenFileSetRotatedMidWalk: a set whose open meets a rotation after
// it looked at exec.log.1 and before exec.log — the one moment at which a
// set that trusted its first look would miss the old exec.log, renamed to
// exec.log.1 behind it — holds every file of the chain once, in order,
// both when the logs directory had been left alone long enough for its
// times to vouch for its names and when it had just changed.
func TestOpenFileSetRotatedMidWalk(t *testing.T) {
	for _, settled := range []bool{true, false} {
		d, table := twoFileChain(t)
		if settled {
			time.Sleep(3 * settle)
		}
		walks, rotated := 0, false
		chain.SetWalkHook(t, func(name string) {
			switch {
			case name == chain.ChainName(chain.ChainLen-1):
				walks++
			case name == chain.ExecLogName && !rotated:
				rotated = true
				d.Rotate() // exec.log ("b") becomes exec.log.1; exec.log.1 ("a") exec.log.2
				d.Exec(testutil.JL(2, "stdout", "c\n"))
			}
		})
		files, err := chain.OpenFileSet(table)
		if err != nil {
			t.Fatal(err)
		}
		got := bodies(t, files)
		files.Release()
		if got != "abc" || walks != 2 {
			t.Errorf("settled %v: the set reads %q after %d walks of the chain; want \"abc\" after 2 (the first one stale)", settled, got, walks)
		}
	}
}

// TestOpenFileSetSettledDirectory: a set opened in a logs directory whose
// times vouch for its names is the set a full look gives, and a name
// changed since the times were taken (a file removed) is seen at once.
func TestOpenFileSetSettledDirectory(t *testing.T) {
	d, table := twoFileChain(t)
	time.Sleep(3 * settle)
	files, err := chain.OpenFileSet(table)
	if err != nil {
		t.Fatal(err)
	}
	if got := bodies(t, files); got != "ab" || len(files.Names) != 2 {
		t.Errorf("settled directory: the set reads %q from names %v; want \"ab\" from exec.log.1 and exec.log", got, files.Names)
	}
	files.Release()
	d.Rotate()
	d.Exec(testutil.JL(2, "stdout", "c\n"))
	if files, err = chain.OpenFileSet(table); err != nil {
		t.Fatal(err)
	}
	defer files.Release()
	if got := bodies(t, files); got != "abc" || len(files.Names) != 3 {
		t.Errorf("after a rotation: the set reads %q from names %v; want \"abc\" from three files", got, files.Names)
	}
}

// twoFileChain makes a sandbox whose exec chain is exec.log.1 ("a") and
// exec.log ("b"), and its file table with the tests' racy margin.
func twoFileChain(t *testing.T) (*testutil.Dir, *chain.FileTable) {
	d := testutil.NewDir(t)
	d.Exec(testutil.JL(0, "stdout", "a\n"))
	d.Rotate()
	d.Exec(testutil.JL(1, "stdout", "b\n"))
	table := chain.NewFileTable(filepath.Join(d.Home, "sandboxes"), d.Name, nil)
	table.SetRacyMargin(settle)
	return d, table
}

// bodies returns the bodies of the exec entries of files, in order.
func bodies(t *testing.T, files *chain.FileSet) string {
	t.Helper()
	var m chain.Merger
	if err := m.Reset(files, logline.MaskAll, chain.State{}); err != nil {
		t.Fatal(err)
	}
	var out []byte
	for {
		e, ok := m.Next()
		if !ok {
			break
		}
		out = append(out, e.Body[:len(e.Body)-1]...)
	}
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	return string(out)
}
