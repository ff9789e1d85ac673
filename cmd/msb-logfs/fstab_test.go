package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func testApp() *cli.App {
	return &cli.App{Name: "msb-logfs", Commands: []*cli.Command{mountCommand(), logsCommand()}}
}

// TestFstabArgs: mount.fuse3's `msb-logfs HOME MNT -o OPTS` becomes a
// background mount with the options as flags; the generic options mount(8)
// passes are dropped; anything else is left to the command line.
func TestFstabArgs(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"msb-logfs", "/h", "/mnt/x", "-o", "rw,nodev,noexec,nosuid,allow_other,cache_size=1GiB"},
			[]string{"msb-logfs", "mount", "--daemon", "--mount-helper", "--home", "/h", "--allow-other", "--cache-size", "1GiB", "--", "/mnt/x"}},
		{[]string{"msb-logfs", "/h", "/m", "-o", "rw,list_all,dev,suid", "-odebug,cache_dir=/var/c,log_format=json,x-systemd.automount,_netdev,nofail,noauto,defaults,comment=systemd.automount"},
			[]string{"msb-logfs", "mount", "--daemon", "--mount-helper", "--home", "/h", "--list-all", "--debug", "--cache-dir", "/var/c", "--log-format", "json", "--", "/m"}},
		// Not the mount(8) form: left as they are.
		{[]string{"msb-logfs", "logs", "foo", "-o", "x"}, []string{"msb-logfs", "logs", "foo", "-o", "x"}},
		{[]string{"msb-logfs", "help", "mount"}, []string{"msb-logfs", "help", "mount"}},
		{[]string{"msb-logfs", "lgos", "foo"}, []string{"msb-logfs", "lgos", "foo"}},
		{[]string{"msb-logfs", "--help"}, []string{"msb-logfs", "--help"}},
		{[]string{"msb-logfs"}, []string{"msb-logfs"}},
	} {
		got, err := fstabArgs(testApp(), tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("fstabArgs(%q) = %q, %v\nwant %q", tc.in, got, err, tc.want)
		}
	}
}

// TestFstabArgsRefusesJunk: a mistyped option, a flag mount.fuse3 never
// passes or a missing mountpoint is an error that names it.
func TestFstabArgsRefusesJunk(t *testing.T) {
	for in, want := range map[string]string{
		"/h /m -o allow_othr":        `unknown option "allow_othr"`,
		"/h /m -o cache_size":        `unknown option "cache_size"`,
		"/h /m -o allow_other=1":     `unknown option "allow_other=1"`,
		"/h /m -o rw -f":             "unknown flag -f",
		"/h -o rw":                   "want HOME and MOUNTPOINT",
		"/h /m /x -o rw":             "want HOME and MOUNTPOINT",
		"/h /m -o":                   "-o needs options",
		"/h /m -o rw,x-ok,bogus=a,b": `unknown option "bogus=a"`,
	} {
		args := append([]string{"msb-logfs"}, strings.Fields(in)...)
		got, err := fstabArgs(testApp(), args)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("fstabArgs(%q) = %q, %v; want an error with %q", in, got, err, want)
		}
	}
}

// TestFstabFormBinary: through the binary, a bad option exits 2 with one
// line, before anything is mounted; a bad cache size is refused as the
// flag would be.
func TestFstabFormBinary(t *testing.T) {
	for opts, want := range map[string]string{
		"rw,allow_othr":    `unknown option "allow_othr"`,
		"rw,cache_size=1Q": "--cache-size",
		"log_format=xml":   "--log-format",
	} {
		_, stderr, code := run(t, t.TempDir(), t.TempDir()+"/mnt", "-o", opts)
		msg := strings.TrimSpace(stderr)
		if code != exitUsage || strings.Contains(msg, "\n") || !strings.Contains(msg, want) {
			t.Errorf("-o %s: status %d, stderr %q; want status 2 and one line with %q", opts, code, msg, want)
		}
	}
}
