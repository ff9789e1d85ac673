package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli v2 stops reading flags at a command's first argument, so
// "logs foo -f" would see "-f" as a second SANDBOX. commandLine reads the
// command line once, against the flag definitions of the command it names,
// and hands urfave/cli a canonical one: every flag (with its value) first,
// combined short flags split ("-ft" is "-f -t", "-n5" is "-n 5"), then
// "--" and the arguments. An unknown flag or a missing value is refused
// here, in one line.

// flagSpec is what the normaliser knows of a command's flags: by name (long
// or short, without dashes), whether the flag takes a value.
type flagSpec map[string]bool

// specOf returns the flags of cmd, --help and -h included.
func specOf(cmd *cli.Command) flagSpec {
	spec := flagSpec{"help": false, "h": false}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, name := range f.Names() {
			spec[name] = !isBool
		}
	}
	return spec
}

// commandLine returns args in the canonical order for app. Arguments that
// do not start with one of app's commands are returned unchanged (the
// app's own flags, "help", another argv form).
func commandLine(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	cmd := findCommand(app, args[1])
	if cmd == nil || cmd.SkipFlagParsing || completing(args) {
		return args, nil
	}
	flags, rest, err := specOf(cmd).split(args[2:])
	if err != nil {
		return nil, usageError(fmt.Errorf("%w; see %s %s --help", err, app.Name, cmd.Name))
	}
	out := append([]string{args[0], args[1]}, flags...)
	if len(rest) > 0 {
		out = append(append(out, "--"), rest...)
	}
	return out, nil
}

// completing reports whether a shell asks for completions: the partial
// word before urfave/cli's completion flag is no flag of ours to check.
func completing(args []string) bool {
	flag := "--" + cli.BashCompletionFlag.Names()[0]
	for _, a := range args {
		if a == flag {
			return true
		}
	}
	return false
}

// findCommand returns app's command named name (or one of its aliases).
func findCommand(app *cli.App, name string) *cli.Command {
	for _, c := range app.Commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// split separates flags (each followed by its value, if it takes one) from
// arguments. Everything after "--" is an argument; "-" alone is one.
func (s flagSpec) split(args []string) (flags, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(rest, args[i+1:]...), nil
		case len(a) < 2 || a[0] != '-':
			rest = append(rest, a)
			continue
		}
		got, takesNext, err := s.expand(a)
		if err != nil {
			return nil, nil, err
		}
		if takesNext {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("flag %s needs a value", a)
			}
			i++
			got = withValue(got[:len(got)-1], got[len(got)-1], args[i])
		}
		flags = append(flags, got...)
	}
	return flags, rest, nil
}

// expand returns the flags one argument stands for, and whether the last
// of them takes the next argument as its value.
func (s flagSpec) expand(a string) ([]string, bool, error) {
	name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
	takes, known := s[name]
	switch {
	case known && hasValue && !takes:
		return []string{a}, false, nil // --json=false: urfave/cli reads it
	case known:
		return []string{a}, takes && !hasValue, nil
	case strings.HasPrefix(a, "--"):
		return nil, false, errUnknown(a)
	}
	return s.expandShort(a)
}

// expandShort splits "-ft" into "-f", "-t", and "-n5" into "-n", "5": the
// letters are flags until one that takes a value, which takes the rest.
func (s flagSpec) expandShort(a string) ([]string, bool, error) {
	var out []string
	letters := a[1:]
	for i, r := range letters {
		name := string(r)
		takes, known := s[name]
		if !known && i == 0 {
			return nil, false, errUnknown(a)
		}
		if !known {
			return nil, false, fmt.Errorf("%w -%s (in %s)", errUnknownFlag, name, a)
		}
		out = append(out, "-"+name)
		if takes {
			if value := letters[i+len(name):]; value != "" {
				return withValue(out[:len(out)-1], out[len(out)-1], strings.TrimPrefix(value, "=")), false, nil
			}
			return out, true, nil
		}
	}
	return out, false, nil
}

// withValue appends flag and its value to out: as two words, or as one
// ("-o=--") when the value starts with a dash, so that the canonical line
// never holds a value that reads as a flag or as the "--" that ends them.
func withValue(out []string, flag, value string) []string {
	if strings.HasPrefix(value, "-") {
		return append(out, flag+"="+value)
	}
	return append(out, flag, value)
}

var errUnknownFlag = errors.New("unknown flag")

func errUnknown(flag string) error {
	if i := strings.IndexByte(flag, '='); i >= 0 {
		flag = flag[:i]
	}
	return fmt.Errorf("%w %s", errUnknownFlag, flag)
}

// oneLineUsage makes a flag that urfave/cli cannot parse ("--tail abc") a
// one-line error with exit status 2, instead of help on stdout.
func oneLineUsage(c *cli.Context, err error, _ bool) error {
	return usageError(fmt.Errorf("%w; see %s --help", err, c.Command.HelpName))
}

// parseOnce makes every command of app read its flags through
// commandLine's canonical order and refuse bad ones in one line.
func parseOnce(app *cli.App) {
	app.OnUsageError = oneLineUsage
	for _, c := range app.Commands {
		c.OnUsageError = oneLineUsage
	}
}
