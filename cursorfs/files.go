package cursorfs

import "github.com/microsandbox/msb-logfs/engine"

// Kind is what an open of a sandbox file returns.
type Kind uint8

// The kinds of files in a sandbox directory.
const (
	KindSnapshot  Kind = iota // a view fixed at open
	KindFollow                // a view followed from its open
	KindLive                  // a follow whose reads at the end are end of file
	KindSeek                  // the cursor-positioned merged.jsonl reader
	KindCursor                // the end cursor and a newline
	KindBootError             // boot-error.json, when present
	KindInfo                  // a session's info: JSON fixed at open
)

// File is one name of a sandbox directory.
type File struct {
	Name string
	Kind Kind
	View engine.View // snapshot and follow files
	// Listed is whether readdir shows the name. Follow and live files and seek
	// are found by name only, so that tools that walk the tree never open a file
	// whose reads block (like mergerfs's .mergerfs control file).
	Listed bool
}

// Files lists the names of a sandbox directory, in listing order. The
// index of a file in Files is stable: inode numbers derive from it.
var Files = []File{
	{Name: "merged", Kind: KindSnapshot, View: engine.ViewMerged, Listed: true},
	{Name: "stdout", Kind: KindSnapshot, View: engine.ViewStdout, Listed: true},
	{Name: "stderr", Kind: KindSnapshot, View: engine.ViewStderr, Listed: true},
	{Name: "output", Kind: KindSnapshot, View: engine.ViewOutput, Listed: true},
	{Name: "system", Kind: KindSnapshot, View: engine.ViewSystem, Listed: true},
	{Name: "merged.jsonl", Kind: KindSnapshot, View: engine.ViewMergedJSON, Listed: true},
	{Name: "cursor", Kind: KindCursor, Listed: true},
	{Name: engine.BootErrorName, Kind: KindBootError, Listed: true},
	{Name: "merged.follow", Kind: KindFollow, View: engine.ViewMerged},
	{Name: "stdout.follow", Kind: KindFollow, View: engine.ViewStdout},
	{Name: "stderr.follow", Kind: KindFollow, View: engine.ViewStderr},
	{Name: "output.follow", Kind: KindFollow, View: engine.ViewOutput},
	{Name: "system.follow", Kind: KindFollow, View: engine.ViewSystem},
	{Name: "seek", Kind: KindSeek},
	{Name: "merged.live", Kind: KindLive, View: engine.ViewMerged},
	{Name: "stdout.live", Kind: KindLive, View: engine.ViewStdout},
	{Name: "stderr.live", Kind: KindLive, View: engine.ViewStderr},
	{Name: "output.live", Kind: KindLive, View: engine.ViewOutput},
	{Name: "system.live", Kind: KindLive, View: engine.ViewSystem},
}

// lookupFile returns the index in Files of name, or -1.
func lookupFile(name string) int {
	for i, f := range Files {
		if f.Name == name {
			return i
		}
	}
	return -1
}
