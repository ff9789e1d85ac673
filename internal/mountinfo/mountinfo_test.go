package mountinfo

import (
	"strings"
	"testing"
)

const table = `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
98 22 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
210 98 0:77 / /tmp/a\040b\134c rw,nosuid,nodev,relatime - fuse.msb-logfs /root/my\040home rw,user_id=0,group_id=0
211 210 0:78 /sub /tmp/x rw master:3 propagate_from:2 unbindable - tmpfs none rw
`

func TestParse(t *testing.T) {
	mounts, err := Parse(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 4 {
		t.Fatalf("%d mounts, want 4", len(mounts))
	}
	want := Mount{ID: 210, Parent: 98, Major: 0, Minor: 77, Root: "/", Point: `/tmp/a b\c`, FSType: "fuse.msb-logfs", Source: "/root/my home"}
	if mounts[2] != want {
		t.Errorf("got %+v\nwant %+v", mounts[2], want)
	}
	// Optional fields (master:3 …) are skipped up to the separator.
	if m := mounts[3]; m.FSType != "tmpfs" || m.Root != "/sub" || m.Minor != 78 {
		t.Errorf("line with optional fields: %+v", m)
	}
}

func TestParseRejectsJunk(t *testing.T) {
	for _, line := range []string{
		"",
		"not a table",
		"22 1 0:21 / /proc rw - proc",        // no source
		"22 1 0:21 / /proc rw proc proc rw",  // no separator
		"x 1 0:21 / /proc rw - proc proc rw", // bad id
		"22 1 021 / /proc rw - proc proc rw", // no colon
		"22 1 0:99999999999 / /proc rw - proc proc rw", // minor out of range
		"22 1 -1:2 / /proc rw - proc proc rw",          // negative major
	} {
		if m, err := ParseLine(line); err == nil {
			t.Errorf("ParseLine(%q) = %+v, want an error", line, m)
		}
	}
	if _, err := Parse(strings.NewReader(table + "junk\n")); err == nil {
		t.Error("Parse of a table with a junk line: no error")
	}
	if _, err := Parse(strings.NewReader(strings.Repeat("x", maxLine+1))); err == nil {
		t.Error("Parse of an over-long line: no error")
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:      `plain`,
		`a\040b`:     `a b`,
		`tab\011`:    "tab\t",
		`\134`:       `\`,
		`trail\04`:   `trail\04`, // too short: kept
		`\999x`:      `\999x`,    // not octal: kept
		`\777`:       `\777`,     // over a byte: kept
		`a\040\040b`: `a  b`,
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadFindsRoot reads the real table of this process: "/" is mounted.
func TestReadFindsRoot(t *testing.T) {
	m, err := Find("/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.FSType == "" {
		t.Errorf("/ has no type: %+v", m)
	}
	if _, err := Find("/no/such/mountpoint", nil); err != ErrNotFound {
		t.Errorf("Find of a non-mountpoint: %v, want ErrNotFound", err)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, l := range strings.Split(table, "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseLine(line)
		if err == nil && !strings.Contains(line, " - ") {
			t.Fatalf("accepted a line without a separator: %+v", m)
		}
	})
}
