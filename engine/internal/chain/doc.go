// Package chain reads a sandbox's log files: the file table that opens
// them safely, the file set bounding one moment of them, the stamp of
// their names (what stat alone tells of them), the line scanner,
// the per-origin readers with exec.log's parse-ahead on other cores,
// witnesses of in-place rewrites, and the Merger that yields the stable
// merge of the three origins by timestamp with a resumable State. It
// renders nothing and keeps no index: those live in render and index.
//
// # Parse-ahead
//
// The files of the exec chain are independent until the merge, so a long
// read parses them on other cores. The rest of the chain from the reader's
// position is cut into spans of 512 KiB of one file; a span owns the lines
// that start in it. Workers parse spans, in order of their index, into
// batches: entries with their bodies copied into the batch, the position
// after each, and the bytes and skipped lines the reader's own scanner
// would have counted before each. The merge's reader replays the batches
// in span order, so that everything it yields and counts is what a serial
// read yields and counts, entry by entry. A worker stops before a line
// longer than 2 MiB: the rest of its span is parsed by the merge's reader
// with its own scanner, as a serial read would, so a long line is held
// once. A worker reads its span through a read-only mapping of the file
// (spanmap.go), which a file cut below its bound since makes fault: the
// worker recovers the fault and leaves the rest of the span to the
// merge's reader in the same way.
//
// # Bounds
//
// The workers of all the process's reads together are at most the cores
// parallel work may use (internal/cores: GOMAXPROCS, or what it was before
// the mount narrowed it to serve with one processor); each holds a lease
// that keeps the process wide while it runs.
// At most 2 × workers batches exist per read, plus the reader's own: a
// worker takes a free batch before it takes the next span, and the reader
// gives a batch back once it has moved past it; the reader parses a span
// itself, into its own batch, only when no worker has taken it. A batch
// holds the entries of one span: at most 512 KiB plus one line of at most
// 2 MiB of input, decoded (a body is at most three times its JSON string,
// when every byte is invalid UTF-8 and becomes U+FFFD). A worker maps at
// most its span plus 2 MiB of one file at a time, and unmaps it before it
// hands its batch over: no body of a batch points into a mapping.
//
// # Ownership
//
// A FileSet holds one reference to each of its files; Clone takes more,
// Release drops them, and the FileTable closes a file at its last
// reference. A parse-ahead is owned by one origin reader and holds its own
// clone of the reader's FileSet; its workers end when the reader reaches
// the end of the spans, on a read error, and when the Merger is reset or
// releases its buffers (which waits for them). A Merger's owner calls
// ReleaseBuffers, or Reset, before it drops it.
package chain
