package walk

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// Word is the word each small sandbox's stdout holds once: what the
// timed grep -r looks for.
const Word = "zebracorn"

// ErrorWord is the word that about one stderr line in five holds.
const ErrorWord = "ERROR"

// Small describes a corpus of small sandboxes.
type Small struct {
	Count   int // sandboxes
	Exec    int // exec.log lines each
	Runtime int // runtime.log lines each
	Kernel  int // kernel.log lines each
	Width   int // digits of the number in each name ("sb" + number)
}

// maxSmall bounds every count of a Small corpus.
const maxSmall = 1_000_000

// check range-checks s.
func (s Small) check() error {
	for _, v := range []struct {
		name string
		n    int
	}{{"sandboxes", s.Count}, {"exec lines", s.Exec}, {"runtime lines", s.Runtime}, {"kernel lines", s.Kernel}} {
		if v.n < 0 || v.n > maxSmall {
			return fmt.Errorf("walk corpus: %d %s: want 0 to %d", v.n, v.name, maxSmall)
		}
	}
	if s.Count < 1 || s.Exec < 1 {
		return fmt.Errorf("walk corpus: %d sandboxes of %d exec lines: want at least one of each", s.Count, s.Exec)
	}
	if s.Width < 1 || s.Width > 9 {
		return fmt.Errorf("walk corpus: names of %d digits: want 1 to 9", s.Width)
	}
	return nil
}

// Name is the name of sandbox i.
func (s Small) Name(i int) string { return fmt.Sprintf("sb%0*d", s.Width, i) }

// base is the time of every small sandbox's first entry.
var base = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// Generate writes the corpus into home, the way microsandbox writes a
// sandbox's logs (msbwriter), and returns the sandboxes' names in order.
func (s Small) Generate(home string) ([]string, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	names := make([]string, s.Count)
	for i := range names {
		names[i] = s.Name(i)
		if err := s.write(home, names[i]); err != nil {
			return nil, fmt.Errorf("walk corpus: sandbox %s: %w", names[i], err)
		}
	}
	return names, nil
}

// write writes one sandbox: Exec lines of stdout and stderr (the Word once,
// in the middle, on stdout; ERROR on every fifth), then Runtime and Kernel
// lines spread over the same span of time.
func (s Small) write(home, name string) error {
	w, err := msbwriter.Create(home, name, msbwriter.Options{})
	if err != nil {
		return err
	}
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Millisecond) }
	for i := 0; i < s.Exec && err == nil; i++ {
		err = w.Exec(execChunk(name, i, s.Exec, at(i)))
	}
	for i := 0; i < s.Runtime && err == nil; i++ {
		t := at(i * s.Exec / max(s.Runtime, 1))
		err = w.Runtime(fmt.Sprintf("%s INFO sandbox %s: heartbeat %d", t.Format(msbwriter.TimeFormat), name, i))
	}
	for i := 0; i < s.Kernel && err == nil; i++ {
		err = w.Kernel(fmt.Sprintf("[%4d.%06d] virtio: queue %d ready", i/10, i%1000, i))
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// execChunk is exec line i of n of sandbox name.
func execChunk(name string, i, n int, t time.Time) msbwriter.Chunk {
	c := msbwriter.Chunk{Time: t, Source: "stdout", ID: 1, HasID: true}
	switch {
	case i == n/2:
		c.Data = fmt.Appendf(nil, "%s in %s\n", Word, name)
	case i%5 == 4:
		c.Source = "stderr"
		c.Data = fmt.Appendf(nil, "%s %s step %d of %d: retrying after %d ms\n", ErrorWord, name, i, n, i%13)
	default:
		c.Data = fmt.Appendf(nil, "%s step %d of %d: ok, %d items processed in %d ms\n", name, i, n, i*17, i%13)
	}
	return c
}

// doneMarker is the file, in a kept corpus's home, that says which corpus
// the home holds: written once the corpus is complete.
const doneMarker = ".walk-corpus"

// Ensure returns the home under keep that holds the corpus, generating it
// there first unless a complete one is already in it. Generating the
// 10,000-sandbox corpus takes minutes; keeping it makes a second run of
// the walk quick.
func (s Small) Ensure(keep string) (home string, names []string, err error) {
	if err := s.check(); err != nil {
		return "", nil, err
	}
	desc := fmt.Sprintf("sandboxes=%d exec=%d runtime=%d kernel=%d width=%d\n", s.Count, s.Exec, s.Runtime, s.Kernel, s.Width)
	home = filepath.Join(keep, fmt.Sprintf("walk-%d", s.Count))
	names = make([]string, s.Count)
	for i := range names {
		names[i] = s.Name(i)
	}
	if got, err := os.ReadFile(filepath.Join(home, doneMarker)); err == nil && string(got) == desc {
		return home, names, nil
	}
	if err := os.RemoveAll(home); err != nil {
		return "", nil, fmt.Errorf("walk corpus: %w", err)
	}
	if _, err := s.Generate(home); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(home, doneMarker), []byte(desc), 0o644); err != nil {
		return "", nil, fmt.Errorf("walk corpus: %w", err)
	}
	return home, names, nil
}
