// Package cache is the render cache: one file per Home under the cache
// directory, holding rendered chunks of views (the bytes between two
// checkpoints of an index) within a budget, evicting the least recently
// read. Only the index uses it; it knows nothing of views or logs, only
// keys and bytes.
//
// # Bounds
//
// A Store keeps at most its budget allocated in its file, counted in whole
// blocks, and its file at most twice the budget long; a chunk larger than
// the budget is not kept. A write that fails frees its extent: a chunk not
// kept only costs a render later.
//
// # Ownership
//
// A Store owns its file: Close removes its name, and the file is closed
// once no Cache holds it. A Cache is counted: Acquire takes a reference,
// Release drops one, and the last Release frees its chunks.
package cache
