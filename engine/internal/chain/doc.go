// Package chain reads a sandbox's log files: the file table that opens
// them safely, the file set bounding one moment of them, the line scanner,
// the per-origin readers with exec.log's parse-ahead on other cores,
// witnesses of in-place rewrites, and the merger that yields the stable
// merge of the three origins by timestamp with a resumable State. It
// renders nothing and keeps no index: those live in render and index.
package chain
