package msbwriter

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func newSandbox(t *testing.T, rotateAt int64) *Sandbox {
	t.Helper()
	s, err := Create(t.TempDir(), "box", Options{RotateAt: rotateAt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// inode returns the inode number of dir/name, or 0 if it does not exist.
func inode(t *testing.T, dir, name string) uint64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func chainInodes(t *testing.T, dir string) [ChainLen]uint64 {
	var ino [ChainLen]uint64
	for i := range ino {
		ino[i] = inode(t, dir, ChainName(i))
	}
	return ino
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func chunk(i int) Chunk {
	return Chunk{Time: time.Unix(1777600000, int64(i)*1000).UTC(), Source: SourceStdout, Data: fmt.Appendf(nil, "line %04d\n", i), ID: 1, HasID: true}
}

func TestCreateLayout(t *testing.T) {
	home := t.TempDir()
	s, err := Create(home, "foo", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := filepath.Join(home, "sandboxes", "foo", "logs")
	if s.LogsDir() != want {
		t.Fatalf("LogsDir = %q, want %q", s.LogsDir(), want)
	}
	if inode(t, want, ExecLog) == 0 {
		t.Fatal("exec.log not created by Create")
	}
	for _, n := range []string{RuntimeLog, KernelLog, BootErrorJSON} {
		if inode(t, want, n) != 0 {
			t.Fatalf("%s exists before any write", n)
		}
	}
	if s.rotateAt != DefaultRotateAt {
		t.Fatalf("default RotateAt = %d", s.rotateAt)
	}
}

func TestTextLogsAndBootError(t *testing.T) {
	s := newSandbox(t, 0)
	dir := s.LogsDir()
	must(t, s.Runtime("2026-05-01T10:00:00.123456Z INFO runtime: up"))
	must(t, s.Runtime("    continuation"))
	must(t, s.Kernel("[    1.234567] virtio: ok"))
	must(t, s.BootError(`{"error":"boom"}`))
	must(t, s.ExecLine([]byte(`{"t":"bad`)))
	if got := string(readFile(t, dir, RuntimeLog)); got != "2026-05-01T10:00:00.123456Z INFO runtime: up\n    continuation\n" {
		t.Errorf("runtime.log = %q", got)
	}
	if got := string(readFile(t, dir, KernelLog)); got != "[    1.234567] virtio: ok\n" {
		t.Errorf("kernel.log = %q", got)
	}
	if got := string(readFile(t, dir, BootErrorJSON)); got != `{"error":"boom"}` {
		t.Errorf("boot-error.json = %q", got)
	}
	if got := string(readFile(t, dir, ExecLog)); got != `{"t":"bad` {
		t.Errorf("exec.log = %q (ExecLine must add nothing)", got)
	}
	must(t, s.Close())
	must(t, s.Close())
	for _, err := range []error{s.Exec(chunk(1)), s.ExecLine(nil), s.Runtime("x"), s.Kernel("x"), s.Rotate(), s.BootError("{}")} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("after Close: %v, want ErrClosed", err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRotateRenamesChainByInode(t *testing.T) {
	s := newSandbox(t, 0)
	dir := s.LogsDir()
	// Build a full chain: exec.log plus .1..4.
	for i := 0; i < ChainLen; i++ {
		must(t, s.Exec(chunk(i)))
		if i < ChainLen-1 {
			must(t, s.Rotate())
		}
	}
	before := chainInodes(t, dir)
	for i, ino := range before {
		if ino == 0 {
			t.Fatalf("%s missing before rotation", ChainName(i))
		}
	}
	// Hold the oldest file open, as a reader would: its inode cannot be
	// freed, so the filesystem cannot hand it to the new exec.log (without
	// a holder it may, and ext4 does).
	old4, err := os.Open(filepath.Join(dir, ChainName(4)))
	must(t, err)
	defer old4.Close()
	must(t, s.Rotate())
	after := chainInodes(t, dir)
	for i := 1; i < ChainLen; i++ {
		if after[i] != before[i-1] {
			t.Errorf("%s has inode %d, want old %s's %d", ChainName(i), after[i], ChainName(i-1), before[i-1])
		}
	}
	for i, ino := range before {
		if after[0] == ino {
			t.Errorf("new exec.log reuses the inode of old %s", ChainName(i))
		}
	}
	for i := 1; i < ChainLen; i++ {
		if after[i] == before[4] {
			t.Errorf("old exec.log.4's inode survives as %s", ChainName(i))
		}
	}
	if fi, err := old4.Stat(); err != nil || fi.Sys().(*syscall.Stat_t).Nlink != 0 {
		t.Errorf("old exec.log.4 still linked: %v", err)
	}
	if got := readFile(t, dir, ExecLog); len(got) != 0 {
		t.Errorf("new exec.log not empty: %q", got)
	}
	// The oldest content (line 0) is gone; line 1 is now the oldest.
	if got := readFile(t, dir, ChainName(4)); !bytes.Contains(got, []byte("line 0001")) {
		t.Errorf("exec.log.4 = %q, want line 0001", got)
	}
	must(t, s.Exec(chunk(99)))
	if got := readFile(t, dir, ExecLog); !bytes.Contains(got, []byte("line 0099")) {
		t.Errorf("append after rotation went elsewhere: exec.log = %q", got)
	}
}

func TestRotateSkipsMissingNames(t *testing.T) {
	s := newSandbox(t, 0)
	dir := s.LogsDir()
	must(t, s.Exec(chunk(0)))
	ino0 := inode(t, dir, ExecLog)
	must(t, s.Rotate())
	ino := chainInodes(t, dir)
	if ino[1] != ino0 || ino[0] == 0 || ino[2] != 0 || ino[3] != 0 || ino[4] != 0 {
		t.Fatalf("after one rotation: inodes %v, old exec.log %d", ino, ino0)
	}
}

func TestRotateBySize(t *testing.T) {
	line := AppendLine(nil, chunk(0))
	per := 3
	s := newSandbox(t, int64(per*len(line)))
	dir := s.LogsDir()
	var prev [ChainLen]uint64
	rotations := 0
	for i := 0; i < per*(ChainLen+3); i++ {
		must(t, s.Exec(chunk(i)))
		cur := chainInodes(t, dir)
		if prev[0] != 0 && cur[0] != prev[0] {
			rotations++
			for k := 1; k < ChainLen; k++ {
				if cur[k] != prev[k-1] {
					t.Fatalf("rotation %d: %s inode %d, want %d", rotations, ChainName(k), cur[k], prev[k-1])
				}
			}
		}
		prev = cur
	}
	if rotations != ChainLen+2 {
		t.Fatalf("%d rotations, want %d", rotations, ChainLen+2)
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	if len(entries) != ChainLen {
		t.Fatalf("%d files after %d rotations, want %d: %v", len(entries), rotations, ChainLen, entries)
	}
	for i := 0; i < ChainLen; i++ {
		got := readFile(t, dir, ChainName(i))
		if len(got) != per*len(line) {
			t.Errorf("%s holds %d bytes, want %d", ChainName(i), len(got), per*len(line))
		}
	}
	// The newest file holds the last lines, the oldest the earliest kept.
	if !bytes.Contains(readFile(t, dir, ExecLog), []byte(fmt.Sprintf("line %04d", per*(ChainLen+3)-1))) {
		t.Error("exec.log lacks the last line")
	}
	if !bytes.Contains(readFile(t, dir, ChainName(4)), []byte(fmt.Sprintf("line %04d", per*3))) {
		t.Error("exec.log.4 lacks the oldest kept line")
	}
}

func TestOversizedLineGoesToFreshFile(t *testing.T) {
	s := newSandbox(t, 64)
	dir := s.LogsDir()
	must(t, s.ExecLine([]byte("small\n")))
	big := bytes.Repeat([]byte("x"), 200)
	must(t, s.ExecLine(append(big, '\n')))
	if got := readFile(t, dir, ChainName(1)); string(got) != "small\n" {
		t.Fatalf("exec.log.1 = %q", got)
	}
	if got := readFile(t, dir, ExecLog); len(got) != 201 {
		t.Fatalf("exec.log holds %d bytes, want the 201-byte line alone", len(got))
	}
	must(t, s.ExecLine([]byte("next\n")))
	if inode(t, dir, ChainName(2)) == 0 {
		t.Fatal("a line after an oversized one must rotate again")
	}
}

func TestCreateAppendsToExisting(t *testing.T) {
	home := t.TempDir()
	s, err := Create(home, "box", Options{RotateAt: 100})
	must(t, err)
	must(t, s.ExecLine(bytes.Repeat([]byte("a"), 60)))
	must(t, s.Close())
	s, err = Create(home, "box", Options{RotateAt: 100})
	must(t, err)
	defer s.Close()
	must(t, s.ExecLine(bytes.Repeat([]byte("b"), 60)))
	if inode(t, s.LogsDir(), ChainName(1)) == 0 {
		t.Fatal("reopened sandbox must count the existing exec.log size")
	}
}

func TestConcurrentExecWholeLines(t *testing.T) {
	const workers, each = 8, 300
	s := newSandbox(t, 200<<10) // about 650 KB in all: rotates, drops nothing
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			data := bytes.Repeat([]byte{byte('a' + w)}, 50+w*40)
			for i := 0; i < each; i++ {
				if err := s.Exec(Chunk{Time: time.Now(), Source: SourceStdout, Data: data, ID: uint64(w), HasID: true}); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	counts := map[uint64]int{}
	for i := ChainLen - 1; i >= 0; i-- {
		b, err := os.ReadFile(filepath.Join(s.LogsDir(), ChainName(i)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		must(t, err)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Fatalf("%s ends in a partial line", ChainName(i))
		}
		for _, line := range bytes.SplitAfter(b, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			w := decodeLine(t, line)
			id := *w.ID
			if w.D != string(bytes.Repeat([]byte{byte('a' + id)}, 50+int(id)*40)) {
				t.Fatalf("interleaved line: %q", line)
			}
			counts[id]++
		}
	}
	if inode(t, s.LogsDir(), ChainName(1)) == 0 || inode(t, s.LogsDir(), ChainName(4)) != 0 {
		t.Fatal("want some rotation and no dropped file")
	}
	for w := 0; w < workers; w++ {
		if counts[uint64(w)] != each {
			t.Errorf("worker %d: %d whole lines, want %d", w, counts[uint64(w)], each)
		}
	}
}
