package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/testutil"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// This file holds the helpers every test file shares: a temporary
// microsandbox home written exactly the way microsandbox writes it, and
// readers that drain the engine's handles.

// baseTime is the time of every test corpus's first entry.
var baseTime = testutil.BaseTime

// tsAt returns baseTime+ms as exec.log writes it.
func tsAt(ms int64) string { return testutil.TsAt(ms) }

// nsAt returns baseTime+ms as a Time.
func nsAt(ms int64) Time { return testutil.NsAt(ms) }

// plusNs returns t plus ns nanoseconds (not for leap seconds).
func plusNs(t Time, ns int64) Time { return testutil.PlusNs(t, ns) }

// tdir is one sandbox's logs directory in a temporary home.
type tdir struct {
	t    testing.TB
	home string
	name string
	logs string
}

// newHomeDir returns a fresh temporary home.
func newHomeDir(t testing.TB) string { return t.TempDir() }

// mkSandbox creates <home>/sandboxes/<name>/logs/.
func mkSandbox(t testing.TB, home, name string) *tdir {
	t.Helper()
	logs := filepath.Join(home, "sandboxes", name, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	return &tdir{t: t, home: home, name: name, logs: logs}
}

// newSandboxDir creates a home with one sandbox "sb".
func newSandboxDir(t testing.TB) *tdir { return mkSandbox(t, newHomeDir(t), "sb") }

// dir returns d as a testutil.Dir.
func (d *tdir) dir() *testutil.Dir {
	return &testutil.Dir{T: d.t, Home: d.home, Name: d.name, Logs: d.logs}
}

func (d *tdir) path(file string) string { return d.dir().Path(file) }

// appendRaw appends data to a log file with O_APPEND, in one write, as
// microsandbox does.
func (d *tdir) appendRaw(file, data string) { d.dir().AppendRaw(file, data) }

// writeFile replaces a file's content: a new file if it did not exist,
// else the same inode truncated and rewritten.
func (d *tdir) writeFile(file, data string) {
	d.t.Helper()
	if err := os.WriteFile(d.path(file), []byte(data), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// exec appends exec.log lines.
func (d *tdir) exec(lines ...string) { d.appendRaw(ExecLogName, strings.Join(lines, "")) }

// runtime appends runtime.log lines (each gets its newline).
func (d *tdir) runtime(lines ...string) { d.appendRaw(RuntimeLogName, joinLines(lines)) }

// kernel appends kernel.log lines (each gets its newline).
func (d *tdir) kernel(lines ...string) { d.appendRaw(KernelLogName, joinLines(lines)) }

func joinLines(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// rotate rotates exec.log exactly like microsandbox (testutil.Dir.Rotate).
func (d *tdir) rotate() { d.dir().Rotate() }

// rotateChain is rotate without a testing.TB, for writer goroutines.
func rotateChain(logs string) error { return testutil.RotateChain(logs) }

// hostileChain is testutil.HostileChain as a tdir.
func hostileChain(t testing.TB, seed uint64, long int) *tdir {
	x := testutil.HostileChain(t, seed, long)
	return &tdir{t: t, home: x.Home, name: x.Name, logs: x.Logs}
}

// xline is an exec.log line encoded by encoding/json.
type xline = msbwriter.JSONLine

// jl returns an exec.log line (with its newline) of source s at baseTime+ms.
func jl(ms int64, s, d string) string { return testutil.JL(ms, s, d) }

// jlID is jl with a session id.
func jlID(ms int64, s, d string, id uint64) string {
	return xline{T: tsAt(ms), S: s, D: d, ID: &id}.String()
}

// jlB64 returns a line whose d is the base64 of raw, with "e":"b64".
func jlB64(ms int64, s string, raw []byte) string {
	return xline{T: tsAt(ms), S: s, D: base64.StdEncoding.EncodeToString(raw), E: "b64"}.String()
}

// rl returns a runtime/kernel line stamped at baseTime+ms (rule 1).
func rl(ms int64, body string) string { return tsAt(ms) + " " + body }

// openTestHome opens a home and closes it at the end of the test.
func openTestHome(t testing.TB, dir string) *Home {
	t.Helper()
	h, err := OpenHome(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// open opens the sandbox of d through a new Home.
func (d *tdir) open() *Sandbox {
	d.t.Helper()
	sb, err := openTestHome(d.t, d.home).Sandbox(d.name)
	if err != nil {
		d.t.Fatal(err)
	}
	return sb
}

// openWith opens the sandbox of d through a new Home set up by setup.
func (d *tdir) openWith(setup func(*Home)) *Sandbox {
	d.t.Helper()
	h := openTestHome(d.t, d.home)
	setup(h)
	sb, err := h.Sandbox(d.name)
	if err != nil {
		d.t.Fatal(err)
	}
	return sb
}

// expireHold makes the sandbox's next Stat or open look at the files again
// instead of showing the state it holds for HoldFor.
func expireHold(sb *Sandbox) {
	sb.mu.Lock()
	sb.shownAt, sb.statAt = time.Time{}, time.Time{}
	sb.mu.Unlock()
}

// readAllAt reads r from 0 to size in chunks of n bytes, and checks that a
// read at size gives io.EOF.
func readAllAt(t testing.TB, r io.ReaderAt, size int64, n int) []byte {
	t.Helper()
	out := make([]byte, 0, size)
	buf := getReadBuf(n)
	defer putReadBuf(buf)
	for off := int64(0); off < size; {
		c, err := r.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
		if c == 0 {
			t.Fatalf("ReadAt(%d) of %d: no bytes (%v)", off, size, err)
		}
		out = append(out, buf[:c]...)
		off += int64(c)
	}
	if c, err := r.ReadAt(buf, size); c != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end (%d) = %d, %v; want 0, io.EOF", size, c, err)
	}
	return out
}

// snap returns the bytes of a snapshot of v, checking its size.
func snap(t testing.TB, sb *Sandbox, v View) []byte {
	t.Helper()
	s, err := sb.OpenSnapshot(v)
	if err != nil {
		t.Fatalf("OpenSnapshot(%v): %v", v, err)
	}
	defer s.Close()
	b := readAllAt(t, s, s.Size(), 128<<10)
	if int64(len(b)) != s.Size() {
		t.Fatalf("snapshot of %v: read %d bytes, Size says %d", v, len(b), s.Size())
	}
	return b
}

// readerAll drains a Reader of v from st to the current end.
func readerAll(t testing.TB, sb *Sandbox, v View, st State) []byte {
	t.Helper()
	r := sb.NewReader(v, st)
	defer r.Close()
	return drainReader(t, r, 64<<10)
}

// drainReader reads r until a Read returns 0.
func drainReader(t testing.TB, r *Reader, n int) []byte {
	t.Helper()
	var out []byte
	buf := getReadBuf(n)
	defer putReadBuf(buf)
	for {
		c, err := r.Read(buf)
		if err != nil {
			t.Fatalf("Reader.Read: %v", err)
		}
		if c == 0 {
			return out
		}
		out = append(out, buf[:c]...)
	}
}

// readBufs recycles the buffers readAllAt and drainReader read into, one
// pool per size, so that reading a sandbox through many handles (the
// whole-pipeline fuzz targets use dozens per iteration) does not allocate
// a buffer of 64 or 128 KiB for each.
var readBufs sync.Map // int -> *sync.Pool of *[]byte

// getReadBuf returns a buffer of n bytes, of undefined content.
func getReadBuf(n int) []byte {
	p, _ := readBufs.LoadOrStore(n, &sync.Pool{New: func() any { b := make([]byte, n); return &b }})
	return *p.(*sync.Pool).Get().(*[]byte)
}

// putReadBuf gives back a buffer of getReadBuf.
func putReadBuf(b []byte) {
	if p, ok := readBufs.Load(len(b)); ok {
		p.(*sync.Pool).Put(&b)
	}
}

// follower is a Follow handle with its read offset.
type follower struct {
	t   testing.TB
	f   *Follow
	off int64
}

func openFollower(t testing.TB, sb *Sandbox, v View) *follower {
	t.Helper()
	f, err := sb.OpenFollow(v)
	if err != nil {
		t.Fatalf("OpenFollow(%v): %v", v, err)
	}
	t.Cleanup(func() { f.Close() })
	return &follower{t: t, f: f}
}

// read returns what the stream holds past what was read so far.
func (fl *follower) read() []byte {
	fl.t.Helper()
	n := fl.f.Size() - fl.off
	if n == 0 {
		return nil
	}
	buf := make([]byte, n)
	c, err := fl.f.ReadAt(buf, fl.off)
	if err != nil && err != io.EOF {
		fl.t.Fatalf("Follow.ReadAt(%d): %v", fl.off, err)
	}
	if int64(c) != n {
		fl.t.Fatalf("Follow.ReadAt(%d): %d bytes, want %d", fl.off, c, n)
	}
	fl.off += n
	return buf
}

// next advances the stream and returns what is new.
func (fl *follower) next() []byte {
	fl.t.Helper()
	if _, err := fl.f.Advance(); err != nil {
		fl.t.Fatalf("Advance: %v", err)
	}
	return fl.read()
}

// jentry is one decoded merged.jsonl line, with its key order.
type jentry struct {
	Keys   []string
	T      string
	S      string
	D      string
	ID     *uint64
	E      string
	Cursor string
}

// body returns the entry's bytes, decoding base64 when e is b64.
func (j jentry) body() string {
	if j.E == "b64" {
		b, err := base64.StdEncoding.DecodeString(j.D)
		if err != nil {
			return "<bad base64>"
		}
		return string(b)
	}
	return j.D
}

// parseJSONL decodes a merged.jsonl rendering line by line.
func parseJSONL(t testing.TB, b []byte) []jentry {
	t.Helper()
	var out []jentry
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("JSON lines do not end in a newline: %q", tail(b, 200))
	}
	for _, line := range bytes.SplitAfter(b, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		e, err := decodeJSONLine(line)
		if err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		out = append(out, e)
	}
	return out
}

func decodeJSONLine(line []byte) (jentry, error) {
	var e jentry
	if bytes.Count(line, []byte{'\n'}) != 1 || line[len(line)-1] != '\n' {
		return e, errors.New("not exactly one line")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return e, fmt.Errorf("not an object (%v)", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return e, err
		}
		k := tok.(string)
		e.Keys = append(e.Keys, k)
		switch k {
		case "t":
			err = dec.Decode(&e.T)
		case "s":
			err = dec.Decode(&e.S)
		case "d":
			err = dec.Decode(&e.D)
		case "id":
			err = dec.Decode(&e.ID)
		case "e":
			err = dec.Decode(&e.E)
		case "cursor":
			err = dec.Decode(&e.Cursor)
		default:
			return e, fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return e, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return e, err
	}
	if dec.More() {
		return e, errors.New("trailing data")
	}
	return e, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// bodies returns the decoded bodies of JSON entries.
func bodies(es []jentry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.body()
	}
	return out
}

// statx returns the inode and the birth time (else the mtime) of a file, the
// way the engine reads them.
func statx(t testing.TB, path string) (ino uint64, birth Time) {
	t.Helper()
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &stx); err != nil {
		t.Fatal(err)
	}
	ts := stx.Mtime
	if stx.Mask&unix.STATX_BTIME != 0 && stx.Btime.Sec != 0 {
		ts = stx.Btime
	}
	return stx.Ino, Time{Sec: ts.Sec, Nsec: ts.Nsec}
}

// fileSize returns the size of a file.
func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// textLines renders what the merged/system views show for entries, one
// "<TIME> <SOURCE> <piece>" string per line, for readable comparisons.
func splitLines(b []byte) []string {
	s := string(b)
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// encodeCursor builds a cursor string by hand, independently of Cursor.
func encodeCursor(pos ...logline.Pos) string { return testutil.EncodeCursor(pos...) }

// quoteLines formats lines for failure messages.
func quoteLines(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("\n\t")
		b.WriteString(strconv.Quote(l))
	}
	return b.String()
}

// waitChanged waits for ch to be closed, up to d; it reports whether it was.
func waitChanged(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// pos returns the position at offset off of the file with inode gen.
func pos(gen, off uint64) logline.Pos { return logline.Pos{Gen: gen, Offset: off} }
