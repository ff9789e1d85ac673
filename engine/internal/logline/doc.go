// Package logline is the vocabulary of the engine's packages and the
// parsing of one log line: times, sources and origins, entries, cursors
// and positions, the output formats' names, the exec.log JSON parser and
// the text-line parser (ANSI stripping, timestamp rules), the string
// scanner they share, and the pools of large buffers. It reads no file
// and knows no view: the file chains live in chain, the renderings in
// render.
//
// # Bounds
//
// A line longer than MaxLineLen is never parsed. A JSONParser keeps two
// decoding buffers, sized by the longest body it decoded, until
// ReleaseBuffers gives them to the buffer pools. The pools (GetBuf,
// PutBuf) hold at most 8 MiB between them, in buffers of 128 KiB to 4 MiB.
package logline
