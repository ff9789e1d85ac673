package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// goFusePath is the module whose version --version reports.
const goFusePath = "github.com/hanwen/go-fuse/v2"

// buildVersion is this binary's module version ("(devel)" for a build from
// a work tree), from its build information.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(unknown)"
	}
	return bi.Main.Version
}

// versionText is what --version and version print: the version, the
// commit it was built from when known, Go's version and go-fuse's.
func versionText() string {
	text := "msb-logfs " + buildVersion() + "\n"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return text + "- go: " + runtime.Version() + "\n"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		text += "- commit: " + rev + " " + settings["vcs.time"] + "\n"
	}
	text += fmt.Sprintf("- go: %s %s/%s\n", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
	fuse := "(not linked)"
	for _, d := range bi.Deps {
		if d.Path == goFusePath {
			fuse = d.Version
			if d.Replace != nil {
				fuse += " => " + d.Replace.Path + " " + d.Replace.Version
			}
		}
	}
	return text + "- go-fuse: " + fuse + "\n"
}

// setVersion gives app --version (not -v, which means nothing else here
// but is too easily a mistyped flag) printing versionText.
func setVersion(app *cli.App) {
	app.Version = buildVersion()
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version, Go's and go-fuse's"}
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprint(c.App.Writer, versionText()) }
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, Go's and go-fuse's",
		Description: `Prints msb-logfs's version, the commit it was built from, and the
versions of Go and go-fuse it was built with (the same as --version).

Example:
   msb-logfs version`,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError(fmt.Errorf("version: no arguments expected, got %d", c.NArg()))
			}
			fmt.Fprint(c.App.Writer, versionText())
			return nil
		},
	}
}
