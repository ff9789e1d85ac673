package test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestGrepNeverCallsTextViewsBinary: a sandbox whose programs wrote binary
// chunks (NUL bytes, invalid UTF-8, control bytes, CRLF line ends) next to
// ERROR lines: `grep -r ERROR` over the mount, in a UTF-8 locale, prints the
// matching lines of the text views and never calls one of them binary
// (SPEC §3's escaping; the raw stdout and stderr keep their NUL bytes, so
// grep calls those binary); merged equals `logs -t --source all`, and
// stat's size is the number of bytes read.
func TestGrepNeverCallsTextViewsBinary(t *testing.T) {
	home := t.TempDir()
	s, err := msbwriter.Create(home, "bin", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := msbwriter.DefaultCorpusStart
	for i, c := range []msbwriter.Chunk{
		{Source: "stdout", Data: []byte("\x00\x01\x02 ELF\x7f\xff\xfe\x00 binary blob\n")},
		{Source: "stdout", Data: []byte("ERROR: disk full\r\n")},
		{Source: "stderr", Data: []byte("\x1b[31mERROR\x1b[0m: bad byte \xc3 here\x00\n")},
		{Source: "output", Data: []byte("progress 10%\rprogress 100%\r\n")},
	} {
		c.Time = start.Add(time.Duration(i) * time.Millisecond)
		if err := s.Exec(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Runtime("2026-05-01T10:00:00.010Z ERROR runtime \xff\xfe\x01 raw bytes"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	m := mount(t, home)
	out, errOut, err := shErr(30*time.Second, "cd "+q(m.dir)+" && LC_ALL=C.UTF-8 grep -r ERROR .")
	if err != nil {
		t.Fatalf("grep -r: %v: %s", err, errOut)
	}
	for _, line := range strings.Split(out+errOut, "\n") {
		if strings.Contains(line, "binary file") && !strings.Contains(line, "/stdout:") && !strings.Contains(line, "/stderr:") {
			t.Errorf("grep calls a text view binary: %s", line) // the raw views keep every byte
		}
	}
	for _, want := range []string{
		"./bin/merged:" + "2026-05-01T10:00:00.001Z stdout ERROR: disk full\n",
		"./bin/merged:" + `2026-05-01T10:00:00.002Z stderr ERROR: bad byte \xc3 here\x00` + "\n",
		"./bin/merged:" + `2026-05-01T10:00:00.010Z system ERROR runtime \xff\xfe\x01 raw bytes` + "\n",
		"./bin/system:" + `2026-05-01T10:00:00.010Z system ERROR runtime \xff\xfe\x01 raw bytes` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("grep -r output lacks %q:\n%s", want, out)
		}
	}
	merged := sh(t, 10*time.Second, "cat "+q(m.path("bin", "merged")))
	if want := sh(t, 10*time.Second, q(binary)+" logs --home "+q(home)+" --source all -t bin"); merged != want {
		t.Errorf("merged:\n%q\nlogs -t --source all:\n%q", merged, want)
	}
	if !strings.Contains(merged, `stdout \x00\x01\x02 ELF\x7f\xff\xfe\x00 binary blob`+"\n") ||
		!strings.Contains(merged, `output progress 10%\x0dprogress 100%`+"\n") {
		t.Errorf("merged does not escape as SPEC §3 says:\n%q", merged)
	}
	for _, name := range []string{"merged", "system"} {
		size := strings.TrimSpace(sh(t, 5*time.Second, "stat -c %s "+q(m.path("bin", name))))
		n := strings.TrimSpace(sh(t, 5*time.Second, "wc -c <"+q(m.path("bin", name))))
		if size != n || size == strconv.Itoa(0) {
			t.Errorf("%s: stat size %s, read %s bytes", name, size, n)
		}
	}
	if raw := sh(t, 5*time.Second, "cat "+q(m.path("bin", "stdout"))); !strings.HasPrefix(raw, "\x00\x01\x02 ELF\x7f\xff\xfe\x00 binary blob\n") {
		t.Errorf("stdout does not keep the raw bytes: %q", raw)
	}
}
