package testutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// Dir is one sandbox's logs directory, Home/sandboxes/Name/logs, in a
// temporary microsandbox home, written the way microsandbox writes it.
type Dir struct {
	T    testing.TB
	Home string
	Name string
	Logs string
}

// NewDir makes a temporary home with one sandbox, "sb".
func NewDir(t testing.TB) *Dir {
	t.Helper()
	home := t.TempDir()
	logs := filepath.Join(home, "sandboxes", "sb", "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Dir{T: t, Home: home, Name: "sb", Logs: logs}
}

// Path returns the path of a file of the logs directory.
func (d *Dir) Path(file string) string { return filepath.Join(d.Logs, file) }

// AppendRaw appends data to a log file with O_APPEND, in one write, as
// microsandbox does.
func (d *Dir) AppendRaw(file, data string) {
	d.T.Helper()
	f, err := os.OpenFile(d.Path(file), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		d.T.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		d.T.Fatal(err)
	}
	if err := f.Close(); err != nil {
		d.T.Fatal(err)
	}
}

// Exec appends exec.log lines.
func (d *Dir) Exec(lines ...string) { d.AppendRaw(chain.ExecLogName, strings.Join(lines, "")) }

// OpenFiles opens the sandbox's current files, released when the test
// ends.
func (d *Dir) OpenFiles() *chain.FileSet {
	d.T.Helper()
	files, err := chain.OpenFileSet(chain.NewFileTable(filepath.Join(d.Home, "sandboxes"), d.Name, nil))
	if err != nil {
		d.T.Fatal(err)
	}
	d.T.Cleanup(files.Release)
	return files
}

// Rotate rotates exec.log exactly like microsandbox: exec.log.3→.4,
// .2→.3, .1→.2, exec.log→exec.log.1, then a new, empty exec.log.
func (d *Dir) Rotate() {
	d.T.Helper()
	if err := RotateChain(d.Logs); err != nil {
		d.T.Fatal(err)
	}
}

// RotateChain is Rotate without a testing.TB, for writer goroutines.
func RotateChain(logs string) error {
	name := func(i int) string { return filepath.Join(logs, chain.ChainName(i)) }
	for i := chain.ChainLen - 2; i >= 0; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	f, err := os.OpenFile(name(0), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// HostileChain writes msbwriter's Adversary into a new Dir, with an exec
// chain that also holds lines longer than long bytes (terminated, and as
// the unterminated tail of a rotated file), a rotated file ending in a
// partial line, and a partial last line.
func HostileChain(t testing.TB, seed uint64, long int) *Dir {
	t.Helper()
	d := NewDir(t)
	g := msbwriter.NewAdversary(d.Logs, seed)
	write := func(n int, tails bool) {
		if err := g.Write(n, tails); err != nil {
			t.Fatal(err)
		}
	}
	write(40<<10, true)
	d.Rotate() // exec.log.1 ends in a partial line
	write(20<<10, false)
	d.Exec(JL(1e6, "stdout", strings.Repeat("long ", long/5)) + "\n")
	write(10<<10, false)
	d.Exec(`{"t":"` + TsAt(2e6) + `","s":"stderr","d":"` + strings.Repeat("x", long))
	d.Rotate() // exec.log.1 ends in a long unterminated line
	write(30<<10, true)
	return d
}
