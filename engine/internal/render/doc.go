// Package render turns entries into the bytes of a view: the View type,
// the raw, text and JSON Lines formats, the size of an entry's rendering
// without rendering it, and the pieces a long entry is rendered in. It
// reads no file and keeps no index: the merge lives in chain, the index in
// index.
package render
