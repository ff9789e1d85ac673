package cursorfs

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/microsandbox/msb-logfs/engine"
)

// Sessions. A sandbox directory holds sessionsName, which lists one
// directory per session id seen in the sandbox's exec chain, named by the
// id in decimal; a session directory holds the files of sessionFiles: that
// session's part of the views with session ids (merged, stdout, stderr,
// output, merged.jsonl, their .follow and .live twins) and info.

// sessionsName is the name of a sandbox's directory of sessions.
const sessionsName = "sessions"

// sessionFiles lists the names of a session directory, in listing order.
// The index of a file in sessionFiles is stable: inode numbers derive from
// it. The views are the sandbox's; Node.view narrows them to the session.
var sessionFiles = []File{
	{Name: "merged", Kind: KindSnapshot, View: engine.ViewMerged, Listed: true},
	{Name: "stdout", Kind: KindSnapshot, View: engine.ViewStdout, Listed: true},
	{Name: "stderr", Kind: KindSnapshot, View: engine.ViewStderr, Listed: true},
	{Name: "output", Kind: KindSnapshot, View: engine.ViewOutput, Listed: true},
	{Name: "merged.jsonl", Kind: KindSnapshot, View: engine.ViewMergedJSON, Listed: true},
	{Name: "info", Kind: KindInfo, Listed: true},
	{Name: "merged.follow", Kind: KindFollow, View: engine.ViewMerged},
	{Name: "stdout.follow", Kind: KindFollow, View: engine.ViewStdout},
	{Name: "stderr.follow", Kind: KindFollow, View: engine.ViewStderr},
	{Name: "output.follow", Kind: KindFollow, View: engine.ViewOutput},
	{Name: "merged.live", Kind: KindLive, View: engine.ViewMerged},
	{Name: "stdout.live", Kind: KindLive, View: engine.ViewStdout},
	{Name: "stderr.live", Kind: KindLive, View: engine.ViewStderr},
	{Name: "output.live", Kind: KindLive, View: engine.ViewOutput},
}

// stdoutIndex is the index of stdout in Files: a session's files, all made
// of the exec chain, have its owner and mode.
var stdoutIndex = lookupFile("stdout")

// parseSessionName returns the session id a name of the sessions
// directory stands for: the canonical decimal form of an unsigned 64-bit
// id. "007", "+7", "7x", "" and numbers past 2^64-1 stand for none.
func parseSessionName(name string) (uint64, bool) {
	id, err := strconv.ParseUint(name, 10, 64)
	if err != nil || strconv.FormatUint(id, 10) != name {
		return 0, false
	}
	return id, true
}

// sessions returns the sessions of sandbox, sorted by id, from its index:
// no full parse.
func (f *FS) sessions(sandbox string) ([]engine.SessionInfo, error) {
	sb, err := f.home.Sandbox(sandbox)
	if err != nil {
		return nil, err
	}
	list, err := sb.Sessions()
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", sandbox, err)
	}
	f.recent.saw(sandbox, list...)
	return list, nil
}

// sessionsReady reports whether the sessions of sandbox are at hand
// without indexing its logs (engine.Sandbox.SessionsReady).
func (f *FS) sessionsReady(sandbox string) bool {
	sb, err := f.home.Sandbox(sandbox)
	return err == nil && sb.SessionsReady()
}

// session returns session id of sandbox, with the cursor of its last
// entry, or an error wrapping engine.ErrNoSession (and fs.ErrNotExist) when
// the sandbox has none. A session shown within sessionGrace that has left
// the exec chain since is returned as it was last seen (recent.go).
func (f *FS) session(sandbox string, id uint64) (engine.SessionInfo, error) {
	return f.sessionWith(sandbox, id, false, sandboxSide.Session)
}

// sessionSummary is Session without the cursor (unless one was seen
// before): a lookup in the index, for a stat of the session's directory.
func (f *FS) sessionSummary(sandbox string, id uint64) (engine.SessionInfo, error) {
	return f.sessionWith(sandbox, id, false, sandboxSide.SessionSummary)
}

// sessionWith returns session id of sandbox with get, as a stat or an
// open (toOpen) sees the sandbox (sideOf).
func (f *FS) sessionWith(sandbox string, id uint64, toOpen bool, get func(sandboxSide, uint64) (engine.SessionInfo, error)) (engine.SessionInfo, error) {
	si, _, err := f.sessionFrom(sandbox, id, toOpen, get)
	return si, err
}

// sessionFrom is sessionWith that also reports whether the session is in
// the exec chain now (else it is as last seen, within sessionGrace).
func (f *FS) sessionFrom(sandbox string, id uint64, toOpen bool, get func(sandboxSide, uint64) (engine.SessionInfo, error)) (si engine.SessionInfo, inChain bool, err error) {
	sb, err := f.home.Sandbox(sandbox)
	if err != nil {
		return engine.SessionInfo{}, false, err
	}
	si, err = get(sideOf(sb, toOpen), id)
	if errors.Is(err, engine.ErrNoSession) {
		if last, ok := f.recent.gone(sandbox, id); ok {
			return last, false, nil
		}
	}
	if err != nil {
		return engine.SessionInfo{}, false, fmt.Errorf("sandbox %s: %w", sandbox, err)
	}
	f.recent.saw(sandbox, si)
	return si, true, nil
}
