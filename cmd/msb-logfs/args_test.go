package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// FuzzCommandLine: the normaliser never panics on any command line; what
// it accepts keeps the command and the arguments in their order, and reads
// the same when normalised again; what it refuses, it refuses in one line. Run
// it with
//
//	go test -run='^$' -fuzz='^FuzzCommandLine$' -fuzztime=20s ./cmd/msb-logfs/
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"logs foo -f", "logs -ft -n5 foo", "logs foo --tail -5", "logs -- -f x", "logs - --home",
		"logs --=x", "logs -=", "logs ---x", "logs -é", "logs -n", "logs --json=false foo", "mount MNT --home H",
		"cursor", "help logs", "--help", "logs -fn=3 a b", "logs --grepp", "logs -fx"} {
		f.Add(s)
	}
	app := &cli.App{Name: "msb-logfs", Commands: []*cli.Command{logsCommand(), cursorCommand(), mountCommand(), unmountCommand(), demoCommand()}}
	f.Fuzz(func(t *testing.T, line string) {
		args := append([]string{"msb-logfs"}, strings.Split(line, " ")...)
		got, err := commandLine(app, args)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") && !strings.ContainsAny(line, "\r\n") {
				t.Fatalf("%q: error of more than one line: %q", line, err)
			}
			return
		}
		if findCommand(app, args[1]) == nil {
			if !slices.Equal(got, args) {
				t.Fatalf("%q: not a command, changed to %q", line, got)
			}
			return
		}
		if got[1] != args[1] {
			t.Fatalf("%q: command %q became %q", line, args[1], got[1])
		}
		if i := lastIndex(got, "--"); i >= 2 && !isSubsequence(got[i+1:], args[2:]) {
			t.Fatalf("%q: arguments %q not in their order", line, got[i+1:])
		}
		again, err := commandLine(app, got)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("%q: %q normalised again is %q, %v", line, got, again, err)
		}
	})
}

// isSubsequence reports whether sub appears in list in its order.
func isSubsequence(sub, list []string) bool {
	for _, s := range list {
		if len(sub) > 0 && sub[0] == s {
			sub = sub[1:]
		}
	}
	return len(sub) == 0
}

// lastIndex returns the index of the last s in list, or -1.
func lastIndex(list []string, s string) int {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i] == s {
			return i
		}
	}
	return -1
}
