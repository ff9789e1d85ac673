// Package test holds the end-to-end tests of msb-logfs: they build the
// msb-logfs binary, write sandbox logs with msbwriter, mount a home with
// `msb-logfs mount` as a separate process, and drive the real mount with
// real Unix tools (cat, cp, stat, tail, grep, tar, rsync, find, wc, head),
// comparing what they see with the engine's own rendering.
//
// The tests need /dev/fuse and the right to mount (root, or fusermount3).
// Where that is missing they skip, unless MSB_LOGFS_REQUIRE_FUSE=1, which
// turns the skip into a failure (CI sets it).
package test
