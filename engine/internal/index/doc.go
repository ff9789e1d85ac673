// Package index keeps what makes any byte of a view cheap to reach: the
// sparse index of a stream (checkpoints of the merge every few tens of KiB
// of input, with every tracked view's offset and each session's tally),
// the segments that render a view from its checkpoints (through the
// render cache of package cache), the record of a small chain's pass
// (what every view of that index renders from instead of parsing the
// files again: at most RecordMax bytes, held by the index of a sandbox
// that holds state — two per sandbox, so at most two per sandbox of the
// live bound — and by the segments made from it until they are
// released), the batches a follower appends, indexes saved across
// restarts, and parked indexes (the summary an index keeps once it lets
// go of its files). It knows no sandbox directory and no handle: those
// live in engine.
package index
