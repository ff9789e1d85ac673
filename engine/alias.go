package engine

import (
	"time"

	"github.com/microsandbox/msb-logfs/engine/internal/cache"
	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
	"github.com/microsandbox/msb-logfs/engine/internal/logline"
	"github.com/microsandbox/msb-logfs/engine/internal/render"
)

// The vocabulary of entries, times and cursors that the engine's callers
// share; logline defines it.
type (
	Time       = logline.Time
	Entry      = logline.Entry
	Source     = logline.Source
	SourceMask = logline.SourceMask
	Format     = logline.Format
	Cursor     = logline.Cursor
	Pos        = logline.Pos
	Origin     = logline.Origin

	// View is a rendering of a sandbox: which entries, in which format.
	View = render.View

	// SessionInfo describes one exec session of a sandbox.
	SessionInfo = index.SessionInfo

	// State is a resumable point of the merge of a sandbox's logs.
	State = chain.State
)

// The names of the files in a sandbox's logs directory, and the length of
// the exec.log rotation chain.
const (
	ExecLogName    = chain.ExecLogName
	RuntimeLogName = chain.RuntimeLogName
	KernelLogName  = chain.KernelLogName
	BootErrorName  = chain.BootErrorName
	ChainLen       = chain.ChainLen

	// IndexDirName names the directory, in the cache directory, that
	// holds saved indexes.
	IndexDirName = index.DirName
	// CacheDirPrefix names the directory that holds a process's render
	// cache: <cache dir>/msb-logfs-cache.<pid>.
	CacheDirPrefix = cache.DirPrefix
)

// The sources, the source sets, the formats, the origins and the line
// limit.
const (
	SourceStdout = logline.SourceStdout
	SourceStderr = logline.SourceStderr
	SourceOutput = logline.SourceOutput
	SourceSystem = logline.SourceSystem

	MaskAll = logline.MaskAll

	FormatRaw  = logline.FormatRaw
	FormatText = logline.FormatText
	FormatJSON = logline.FormatJSON

	// The origins, in the order a cursor holds their positions.
	OriginExec    = logline.OriginExec
	OriginRuntime = logline.OriginRuntime
	OriginKernel  = logline.OriginKernel

	// MaxLineLen is the longest line that is parsed; a longer one is
	// skipped and counted (docs/formats.md, "Bad input").
	MaxLineLen = logline.MaxLineLen
)

// The views the filesystem shows.
var (
	ViewMerged     = render.ViewMerged
	ViewMergedJSON = render.ViewMergedJSON
	ViewStdout     = render.ViewStdout
	ViewStderr     = render.ViewStderr
	ViewOutput     = render.ViewOutput
	ViewSystem     = render.ViewSystem
)

// ErrNoSession is returned for a session id the sandbox's logs do not
// hold. It satisfies errors.Is(err, fs.ErrNotExist).
var ErrNoSession = index.ErrNoSession

// ErrMissedRotation ends a follower that fell so far behind that the file
// it was reading left the rotation chain.
var ErrMissedRotation = chain.ErrMissedRotation

// MinTime is the earliest time a rendering shows (see logline.MinTime).
var MinTime = logline.MinTime

// ErrInvalidCursor is wrapped by every error about a malformed or foreign
// cursor.
var ErrInvalidCursor = logline.ErrInvalidCursor

// CursorLen is the length of an encoded three-origin cursor.
var CursorLen = logline.CursorLen

// TimeOf returns the Time of t.
func TimeOf(t time.Time) Time { return logline.TimeOf(t) }

// ParseTime parses an RFC 3339 time as exec.log writes it.
func ParseTime(s string) (Time, bool) { return logline.ParseTime(s) }

// FormatTime formats t as the text views show it.
func FormatTime(t Time) string { return logline.FormatTime(t) }

// ParseSource returns the Source named name.
func ParseSource(name string) (Source, bool) { return logline.ParseSource(name) }

// ParseCursor decodes a cursor string (see logline.ParseCursor).
func ParseCursor(s string) (Cursor, error) { return logline.ParseCursor(s) }
