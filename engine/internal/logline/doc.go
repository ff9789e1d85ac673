// Package logline is the vocabulary of the engine's packages and the
// parsing of one log line: times, sources and origins, entries, cursors
// and positions, the output formats' names, the exec.log JSON parser and
// the text-line parser (ANSI stripping, timestamp rules), the string
// scanner they share, and the pools of large buffers. It reads no file
// and knows no view: the file chains live in chain, the renderings in
// render.
package logline
