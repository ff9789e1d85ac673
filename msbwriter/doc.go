// Package msbwriter writes microsandbox sandbox logs exactly the way
// microsandbox does, so that tests, benchmarks and the live demo of
// msb-logfs have realistic input on disk.
//
// What lives here:
//
//   - Sandbox: a writer for one sandbox's <home>/sandboxes/<name>/logs/
//     directory. It appends JSON Lines chunks to exec.log (one write(2) per
//     line, O_APPEND), rotates exec.log by size through the rename chain
//     exec.log.3→.4, .2→.3, .1→.2, exec.log→exec.log.1 followed by a new
//     exec.log, and appends plain-text lines to runtime.log and kernel.log.
//     It can also write raw (malformed, partial) bytes to exec.log and a
//     boot-error.json.
//   - AppendLine: the fast, hand-written JSONL encoder of one chunk.
//   - GenerateCorpus: a large, realistic, seeded and deterministic sandbox
//     for tests and benchmarks (cmd/msb-loggen is its command line); the
//     engine's benchmarks use it too.
//   - Adversary: hostile logs written a little at a time for the engine's
//     property tests (clock steps back, partial last lines, escapes the
//     encoder would not write, malformed and empty lines, rotation).
//   - RunLive: a human-readable live mix for `msb-logfs demo`.
//
// What does not: reading. Nothing in msb-logfs reads logs back through this
// package; the reader, with its parsing, cursors and views, is package
// engine. Tests here decode what they wrote with encoding/json only to check
// the encoder.
package msbwriter
