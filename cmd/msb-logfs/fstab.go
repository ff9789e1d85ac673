package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// The form mount(8) uses. `mount -t fuse.msb-logfs HOME MNT -o OPTS`, and
// the same line in /etc/fstab, run mount.fuse3, which runs
// `msb-logfs HOME MNT -o OPTS` (the type's subtype as the program, found
// on mount's PATH: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
// and waits for it to exit. fstabArgs turns that into
// `msb-logfs mount --daemon --mount-helper --home HOME [flags] -- MNT`,
// which returns once the mount answers and leaves the mount process in the
// background; --mount-helper makes a missing MNT an error, as mount(8) does.

// fstabFlags maps the filesystem's own mount options to mount flags;
// those ending in "=" take a value.
var fstabFlags = map[string]string{
	"allow_other": "--allow-other",
	"list_all":    "--list-all",
	"debug":       "--debug",
	"cache_size=": "--cache-size",
	"cache_dir=":  "--cache-dir",
	"log_format=": "--log-format",
}

// genericOptions are the options mount(8) and mount.fuse3 pass on, or that
// fstab lines carry, which mean nothing here: the filesystem is read-only,
// has no devices, set-user-ID or executable files, and is mounted when
// asked.
var genericOptions = []string{
	"rw", "ro", "dev", "nodev", "suid", "nosuid", "exec", "noexec",
	"auto", "noauto", "user", "users", "nouser", "owner", "group",
	"_netdev", "nofail", "defaults", "async", "sync",
	"atime", "noatime", "relatime", "strictatime", "nodiratime",
}

// fstabArgs rewrites args when they have mount(8)'s form: a first argument
// that is neither a flag nor a command, and options (mount.fuse3 always
// passes -o). Other args, a mistyped command among them, are returned as
// they are.
func fstabArgs(app *cli.App, args []string) ([]string, error) {
	app.Setup()
	if len(args) < 2 || strings.HasPrefix(args[1], "-") || app.Command(args[1]) != nil || !hasOptions(args[2:]) {
		return args, nil
	}
	home, mnt, opts, err := splitFstabArgs(args[1:])
	if err != nil {
		return nil, err
	}
	flags, err := fstabOptions(opts)
	if err != nil {
		return nil, err
	}
	out := []string{args[0], "mount", "--daemon", "--" + helperFlag, "--home", home}
	return append(append(out, flags...), "--", mnt), nil
}

// hasOptions reports whether args hold -o.
func hasOptions(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "-o") })
}

// splitFstabArgs reads `HOME MNT [-o OPTS]...` (also -oOPTS).
func splitFstabArgs(args []string) (home, mnt string, opts []string, err error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-o":
			if i+1 == len(args) {
				return "", "", nil, errors.New("mount: -o needs options")
			}
			i++
			opts = append(opts, strings.Split(args[i], ",")...)
		case strings.HasPrefix(a, "-o"):
			opts = append(opts, strings.Split(a[2:], ",")...)
		case strings.HasPrefix(a, "-"):
			return "", "", nil, fmt.Errorf("mount: unknown flag %s in the mount(8) form `msb-logfs HOME MOUNTPOINT -o OPTIONS`", a)
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 2 {
		return "", "", nil, fmt.Errorf("mount: want HOME and MOUNTPOINT in the mount(8) form, got %d arguments (see msb-logfs --help)", len(pos))
	}
	return pos[0], pos[1], opts, nil
}

// fstabOptions maps mount options to mount flags. An option that is
// neither the filesystem's nor a generic one is an error, as a mistyped
// option should be.
func fstabOptions(opts []string) ([]string, error) {
	var flags []string
	for _, o := range opts {
		name, value, hasValue := strings.Cut(o, "=")
		if hasValue {
			name += "="
		}
		switch flag, ok := fstabFlags[name]; {
		case ok && hasValue:
			flags = append(flags, flag, value)
		case ok:
			flags = append(flags, flag)
		case o == "" || slices.Contains(genericOptions, o) || strings.HasPrefix(o, "x-") || strings.HasPrefix(o, "comment="):
		default:
			return nil, fmt.Errorf("mount: unknown option %q (known: allow_other, list_all, debug, cache_size=SIZE, cache_dir=DIR, log_format=FORMAT)", o)
		}
	}
	return flags, nil
}
