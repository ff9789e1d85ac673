// Package engine reads microsandbox sandbox logs: it parses exec.log (JSON
// Lines, rotated as a five-file chain) and the plain-text runtime.log and
// kernel.log, merges them into views by timestamp, renders the views as raw
// bytes, timestamped text or JSON Lines, and keeps microsandbox-compatible
// cursors for every entry.
//
// Position model. Every origin (exec, runtime, kernel) is read as a sequence
// of lines; a Pos names a byte in one file of an origin by the file's inode
// number (its generation) and an offset. A State holds one Pos per origin
// plus the timestamp that the next text line would inherit, and is enough to
// resume the merge of the three origins exactly where it stood. A view's
// sparse index stores a State and the rendered byte offset of every view
// every few tens of KiB of input, so any byte of any view can be rendered by
// resuming from the nearest checkpoint without holding the logs in memory.
//
// Nothing here knows about FUSE: the handle logic lives in cursorfs and the
// node tree in fs.
package engine
