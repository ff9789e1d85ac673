// Package render turns entries into the bytes of a view: the View type,
// the raw, text and JSON Lines formats, the size of an entry's rendering
// without rendering it, and the pieces a long entry is rendered in. It
// reads no file and keeps no index: the merge lives in chain, the index in
// index.
//
// # Text views
//
// The text views (merged, system, logs -t) write each entry's body, ANSI
// escapes stripped, as lines "<TIME> <SOURCE> <piece>\n", one per piece of
// the body split at '\n' (docs/formats.md, "Text-view escaping"). Each
// piece is made safe for grep and terminals: a '\r' at its end is dropped;
// every other byte below 0x20 but tab, the byte 0x7f and each byte that is
// not part of valid UTF-8 is written \xNN. One walker renders and measures
// this, so that a text view's size always equals the bytes it reads; it
// resumes from an EntryPart, so it also renders a long body piece by
// piece.
package render
