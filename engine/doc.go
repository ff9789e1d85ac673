// Package engine reads microsandbox sandbox logs: it parses exec.log (JSON
// Lines, rotated as a five-file chain) and the plain-text runtime.log and
// kernel.log, merges them into views by timestamp, renders the views as raw
// bytes, timestamped text or JSON Lines, and keeps microsandbox-compatible
// cursors for every entry.
//
// This package is the front: Home, Sandbox, the handles (Snapshot, Follow,
// Reader, Scanner), the filesystem watcher and idle release. The work is
// done below it, in packages that import one another only downward:
//
//   - internal/logline: times, sources, entries, cursors; the line parsers.
//   - internal/chain: the log files, the line scanner, the parse-ahead,
//     witnesses and the merger.
//   - internal/render: views and their formats, sizes and pieces.
//   - internal/cache: the render cache, a budgeted file of rendered chunks.
//   - internal/index: the sparse index, segments, sessions and saved
//     indexes.
//
// # Position model
//
// Every origin (exec, runtime, kernel) is read as a sequence of lines; a
// Pos names a byte in one file of an origin by the file's inode number (its
// generation) and an offset. A State holds one Pos per origin plus the
// timestamp that the next text line would inherit, and is enough to resume
// the merge of the three origins exactly where it stood. A view's sparse
// index stores a State and the rendered byte offset of every view every few
// tens of KiB of input, so any byte of any view can be rendered by resuming
// from the nearest checkpoint without holding the logs in memory.
//
// # Ownership
//
// A Sandbox owns its shown file set and its indexes; an index owns its file
// set and one reference to its render cache. Handles (Snapshot, Follow,
// Reader, Scanner) own clones: their files and their cache reference,
// released by their Close; a Follow lets go earlier of the files of what
// it has read once a rotation drops one, keeping those bytes in its own
// part of the render cache (keep.go), and owns the goroutine that copies
// them. The Home owns the set of sandboxes that hold
// state, of which the least recently used give it up as soon as the set
// passes 64, one sweeper goroutine that takes state away from sandboxes
// idle for 3 s and forgets sandboxes that nothing holds, so that the home's
// map holds only sandboxes in use, and the parked summaries of sandboxes
// that let their state go (park.go: a stat of an unchanged sandbox opens
// nothing). A sandbox that a handle holds is never forgotten: its
// followers are woken through the map.
//
// Nothing here knows about FUSE: the handle logic lives in cursorfs and the
// node tree in fs.
package engine
