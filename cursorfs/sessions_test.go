package cursorfs

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/cursorfs/cursorfstest"
	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestParseSessionName: only the canonical decimal form of a 64-bit id
// names a session directory.
func TestParseSessionName(t *testing.T) {
	for name, want := range map[string]uint64{"0": 0, "7": 7, "18446744073709551615": 1<<64 - 1} {
		if id, ok := parseSessionName(name); !ok || id != want {
			t.Errorf("%q: %d %v, want %d", name, id, ok, want)
		}
	}
	for _, name := range []string{"", "007", "00", "+7", "-7", "7x", "x7", " 7", "7 ", "0x7", "1e3", "18446744073709551616", "99999999999999999999", "٣"} {
		if id, ok := parseSessionName(name); ok {
			t.Errorf("%q: session %d, want none", name, id)
		}
	}
}

// TestFormatTimeNano: nine digits of fraction, UTC, leap seconds as :60.
func TestFormatTimeNano(t *testing.T) {
	for _, c := range []struct {
		t    engine.Time
		want string
	}{
		{engine.TimeOf(time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC)), "2026-05-01T10:00:00.123456789Z"},
		{engine.TimeOf(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)), "2026-05-01T10:00:00.000000000Z"},
		{engine.Time{Sec: time.Date(2016, 12, 31, 23, 59, 59, 0, time.UTC).Unix(), Nsec: 1e9 + 5}, "2016-12-31T23:59:60.000000005Z"},
		{engine.MinTime, "0000-01-01T00:00:00.000000000Z"},
	} {
		if got := formatTimeNano(c.t); got != c.want {
			t.Errorf("%+v: %s, want %s", c.t, got, c.want)
		}
	}
}

// TestAppendSessionJSON: the info object has its keys in order, sources
// in the order stdout, stderr, output, and parses as JSON.
func TestAppendSessionJSON(t *testing.T) {
	c, err := engine.ParseCursor("AwECAwQFBgcIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")
	if err != nil {
		t.Fatal(err)
	}
	si := engine.SessionInfo{
		ID:      42,
		First:   engine.TimeOf(time.Date(2026, 5, 1, 10, 0, 0, 5, time.UTC)),
		Last:    engine.TimeOf(time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC)),
		Sources: 1<<engine.SourceOutput | 1<<engine.SourceStdout,
		Entries: 3, Bytes: 17, Cursor: c,
	}
	got := string(AppendSessionJSON(nil, si))
	want := `{"id":42,"first":"2026-05-01T10:00:00.000000005Z","last":"2026-05-01T11:00:00.000000000Z","sources":["stdout","output"],"entries":3,"bytes":17,"cursor":"` + c.String() + "\"}\n"
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatal(err)
	}
}

// TestSessionLookup: the sandbox lists sessions/ last; a session's names
// resolve, others are ENOENT; an absent session is an error wrapping
// fs.ErrNotExist that maps to ENOENT; its info is ENOENT too.
func TestSessionLookup(t *testing.T) {
	b := newBox(t, "box", 3, 0)
	box, err := dirAt(b.fs, "box")
	must(t, err)
	ents, err := box.List()
	must(t, err)
	if last := ents[len(ents)-1]; last.Name != sessionsName || !last.Dir {
		t.Errorf("last entry %+v, want the sessions directory", last)
	}
	for _, f := range sessionFiles {
		if _, err := nodeAt(b.fs, "box", "sessions", "1", f.Name); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
	for _, name := range []string{"system", "seek", "cursor", "", "info.follow"} {
		if _, err := nodeAt(b.fs, "box", "sessions", "1", name); Errno(err) != syscall.ENOENT {
			t.Errorf("%q: %v, want ENOENT", name, err)
		}
	}
	if _, err := b.fs.session("box", 1); err != nil {
		t.Fatal(err)
	}
	_, err = b.fs.session("box", 9)
	if !errors.Is(err, fs.ErrNotExist) || Errno(err) != syscall.ENOENT {
		t.Errorf("absent session: %v", err)
	}
	if _, err := b.fs.session("nope", 1); Errno(err) != syscall.ENOENT {
		t.Errorf("absent sandbox: %v", err)
	}
	n, err := nodeAt(b.fs, "box", "sessions", "9", "info")
	must(t, err)
	if _, err := n.Stat(); Errno(err) != syscall.ENOENT {
		t.Errorf("info of an absent session: %v, want ENOENT", err)
	}
	session, err := dirAt(b.fs, "box", "sessions", "1")
	must(t, err)
	listed, err := session.List()
	must(t, err)
	b.fs.SetListAll(true)
	all, err := session.List()
	must(t, err)
	if all[len(sessionFiles)-1].Name != "output.live" || len(listed) != 6 || len(all) != len(sessionFiles) {
		t.Errorf("session lists %v, with ListAll %v", listed, all)
	}
	if _, err := session.Stat(); err != nil {
		t.Errorf("stat of session 1: %v", err)
	}
	absent, err := dirAt(b.fs, "box", "sessions", "9")
	must(t, err)
	if _, err := absent.Stat(); Errno(err) != syscall.ENOENT {
		t.Errorf("stat of an absent session: %v, want ENOENT", err)
	}
	if _, err := absent.List(); Errno(err) != syscall.ENOENT {
		t.Errorf("list of an absent session: %v, want ENOENT", err)
	}
}

// TestSessionInfoFile: info shows the session's fields as JSON, its stat
// size is what an open reads, and its time is the last entry's.
func TestSessionInfoFile(t *testing.T) {
	b := newBox(t, "box", 0, 0)
	t1 := time.Date(2026, 5, 1, 10, 0, 0, 123e6, time.UTC) // msbwriter writes milliseconds
	t2 := t1.Add(time.Second)
	must(t, b.w.Exec(msbwriter.Chunk{Time: t1, Source: msbwriter.SourceStdout, Data: []byte("ab"), ID: 3, HasID: true}))
	must(t, b.w.Exec(msbwriter.Chunk{Time: t2, Source: "output", Data: []byte("cde\n"), ID: 3, HasID: true}))
	must(t, b.w.Exec(msbwriter.Chunk{Time: t2, Source: msbwriter.SourceStdout, Data: []byte("other\n"), ID: 4, HasID: true}))
	n, err := nodeAt(b.fs, "box", "sessions", "3", "info")
	must(t, err)
	a, err := n.Stat()
	must(t, err)
	h, err := n.Open(syscall.O_RDONLY)
	must(t, err)
	defer h.Close()
	data := readAll(t, h.(*bytesHandle))
	if int64(len(data)) != a.Size || !a.ModTime.Equal(t2) {
		t.Errorf("stat: %d bytes at %v; read %d bytes, last entry at %v", a.Size, a.ModTime, len(data), t2)
	}
	var info cursorfstest.Info
	must(t, json.Unmarshal(data, &info))
	if info.ID != 3 || info.First != "2026-05-01T10:00:00.123000000Z" || info.Last != "2026-05-01T10:00:01.123000000Z" ||
		len(info.Sources) != 2 || info.Sources[1] != "output" || info.Entries != 2 || info.Bytes != 6 {
		t.Errorf("info: %s", data)
	}
	if _, err := engine.ParseCursor(info.Cursor); err != nil {
		t.Errorf("info cursor: %v", err)
	}
}

// TestSessionGone: a session whose entries rotated out of the exec chain
// is no longer listed, but stays reachable for sessionGrace after it was
// last seen: as last seen, its views empty. Then it is ENOENT.
func TestSessionGone(t *testing.T) {
	b := newBox(t, "box", 3, 4<<10) // session 1
	if _, err := b.fs.session("box", 1); err != nil {
		t.Fatal(err)
	}
	seen, err := b.fs.sessions("box")
	must(t, err)
	for i := range 400 { // session 2 pushes session 1 out of the chain
		must(t, b.w.Exec(msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: []byte(line(i)), ID: 2, HasID: true}))
	}
	var list []engine.SessionInfo
	deadline := time.Now().Add(5 * time.Second)
	for (len(list) != 1 || list[0].ID != 2) && time.Now().Before(deadline) { // the engine holds a state 100 ms
		list, err = b.fs.sessions("box")
		must(t, err)
		time.Sleep(10 * time.Millisecond)
	}
	if len(list) != 1 || list[0].ID != 2 {
		t.Fatalf("sessions after the rotations: %+v", list)
	}
	si, err := b.fs.session("box", 1)
	if err != nil || si.Entries != seen[0].Entries || si.Cursor == (engine.Cursor{}) {
		t.Fatalf("gone session 1: %+v, %v; want it as seen, %+v, with its cursor", si, err, seen[0])
	}
	for _, name := range []string{"stdout", "merged", "merged.jsonl"} {
		n, err := nodeAt(b.fs, "box", "sessions", "1", name)
		must(t, err)
		a, err := n.Stat()
		must(t, err)
		h, err := n.Open(syscall.O_RDONLY)
		must(t, err)
		if data := readAll(t, h.(*bytesHandle)); a.Size != 0 || len(data) != 0 || !a.ModTime.Equal(goTime(si.Last)) {
			t.Errorf("%s of the gone session: stat %+v, read %q", name, a, data)
		}
		must(t, h.Close())
	}
	n, err := nodeAt(b.fs, "box", "sessions", "1", "info")
	must(t, err)
	if a, err := n.Stat(); err != nil || a.Size != int64(len(AppendSessionJSON(nil, si))) {
		t.Errorf("info of the gone session: %+v, %v", a, err)
	}
	b.fs.recent.now = func() time.Time { return time.Now().Add(sessionGrace) }
	if _, err := b.fs.session("box", 1); Errno(err) != syscall.ENOENT {
		t.Errorf("session 1 after its grace: %v, want ENOENT", err)
	}
	if _, err := n.Stat(); Errno(err) != syscall.ENOENT {
		t.Errorf("its info after its grace: %v, want ENOENT", err)
	}
}

// TestSessionInfoStatWithoutCursor: the stat of info, which reads the
// session's summary only, gives the size its open reads, both for a
// session in the exec chain (whose open writes the cursor of its last
// entry) and for one gone from it before its cursor was ever asked for
// (whose open writes none).
func TestSessionInfoStatWithoutCursor(t *testing.T) {
	b := newBox(t, "box", 3, 4<<10) // session 1
	statRead := func(what string, id uint64) []byte {
		t.Helper()
		n, err := nodeAt(b.fs, "box", "sessions", strconv.FormatUint(id, 10), "info")
		must(t, err)
		a, err := n.Stat()
		must(t, err)
		h, err := n.Open(syscall.O_RDONLY)
		must(t, err)
		defer h.Close()
		data := readAll(t, h.(*bytesHandle))
		if a.Size != int64(len(data)) {
			t.Errorf("%s: stat says %d bytes, the open reads %d: %s", what, a.Size, len(data), data)
		}
		return data
	}
	if _, err := b.fs.sessions("box"); err != nil { // seen listed: no cursor
		t.Fatal(err)
	}
	var info cursorfstest.Info
	must(t, json.Unmarshal(statRead("session 1 in the chain", 1), &info))
	if info.Cursor == "" {
		t.Error("session 1 in the chain: no cursor")
	}
	b = newBox(t, "box", 3, 4<<10) // afresh: session 1 seen listed only
	if _, err := b.fs.sessions("box"); err != nil {
		t.Fatal(err)
	}
	for i := range 400 { // session 2 pushes session 1 out of the chain
		must(t, b.w.Exec(msbwriter.Chunk{Source: msbwriter.SourceStdout, Data: []byte(line(i)), ID: 2, HasID: true}))
	}
	waitFor(t, 5*time.Second, "session 1 to leave the chain", func() bool {
		list, err := b.fs.sessions("box")
		return err == nil && len(list) == 1 && list[0].ID == 2
	})
	must(t, json.Unmarshal(statRead("session 1 gone, its cursor never asked for", 1), &info))
	if info.Cursor != "" || info.ID != 1 {
		t.Errorf("session 1 gone: %+v, want it without a cursor", info)
	}
	statRead("session 2", 2)
}

// TestRecentSessionsBound: past maxRecent, what was not seen within the
// grace is dropped, and then everything.
func TestRecentSessionsBound(t *testing.T) {
	r := newRecentSessions()
	old := time.Now().Add(-sessionGrace)
	r.now = func() time.Time { return old }
	for id := range uint64(maxRecent / 2) {
		r.saw("a", engine.SessionInfo{ID: id})
	}
	r.now = time.Now
	for id := range uint64(maxRecent/2 + 10) {
		r.saw("b", engine.SessionInfo{ID: id})
	}
	if len(r.m) != maxRecent/2+10 {
		t.Fatalf("%d kept, want the %d recent ones", len(r.m), maxRecent/2+10)
	}
	if _, ok := r.gone("a", 1); ok {
		t.Error("an old session is still there")
	}
	for id := range uint64(maxRecent) {
		r.saw("c", engine.SessionInfo{ID: id})
	}
	if len(r.m) > maxRecent {
		t.Fatalf("%d kept, over the bound %d", len(r.m), maxRecent)
	}
}

// TestSessionFilePerm: with AllowOther, a session's files have the owner
// and mode of the sandbox's stdout (the exec chain's): a 0600 exec.log
// makes them 0400, while runtime.log, which they are not made of, does
// not count; without AllowOther they are 0444, never writable. The
// sessions directory and the session directories, made of the same
// content, may be listed and entered by the same users.
func TestSessionFilePerm(t *testing.T) {
	b := newBox(t, "box", 3, 0)
	logs := filepath.Join(b.dir, "sandboxes", "box", "logs")
	must(t, os.Chmod(filepath.Join(logs, "runtime.log"), 0o600))
	for _, f := range sessionFiles {
		n, err := nodeAt(b.fs, "box", "sessions", "1", f.Name)
		must(t, err)
		if p, err := n.Perm(); err != nil || p.Mode != fileMode {
			t.Errorf("%s without AllowOther: %+v %v, want mode %o", f.Name, p, err, fileMode)
		}
	}
	b.fs.SetAllowOther(true)
	must(t, os.Chmod(b.dir, 0o755)) // t.TempDir's are 0700: let others reach the logs
	must(t, os.Chmod(filepath.Dir(b.dir), 0o755))
	merged, err := nodeAt(b.fs, "box", "merged")
	must(t, err)
	for _, c := range []struct {
		mode os.FileMode
		want uint32
	}{{0o644, 0o444}, {0o600, 0o400}} {
		mode, want := c.mode, c.want
		must(t, os.Chmod(filepath.Join(logs, "exec.log"), mode))
		b.fs.owners.perms = newPerms(b.home) // nothing held from before
		stdout, err := nodeAt(b.fs, "box", "stdout")
		must(t, err)
		sp, err := stdout.Perm()
		must(t, err)
		for _, f := range sessionFiles {
			n, err := nodeAt(b.fs, "box", "sessions", "1", f.Name)
			must(t, err)
			if p, err := n.Perm(); err != nil || p != sp || p.Mode != want {
				t.Errorf("exec.log %o: %s: %+v %v, want stdout's %+v, mode %o", mode, f.Name, p, err, sp, want)
			}
		}
		for _, path := range [][]string{{"box", "sessions"}, {"box", "sessions", "1"}} {
			d, err := dirAt(b.fs, path...)
			must(t, err)
			a, err := d.Stat()
			if dirWant := want | want>>2; err != nil || a.Perm.UID != sp.UID || a.Perm.Mode != dirWant {
				t.Errorf("exec.log %o: %v: %+v %v, want stdout's owner, mode %o", mode, path, a.Perm, err, dirWant)
			}
		}
		if p, err := merged.Perm(); err != nil || p.Mode != 0o400 { // the 0600 runtime.log counts there
			t.Errorf("exec.log %o: the sandbox's merged: %+v %v, want mode 400", mode, p, err)
		}
	}
}
