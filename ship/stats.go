package ship

import (
	"sync/atomic"
)

// Stats are the counters of a run, safe for concurrent use.
type Stats struct {
	Records  atomic.Int64 // acknowledged records
	Bytes    atomic.Int64 // their bodies' bytes
	Batches  atomic.Int64 // acknowledged batches
	Rejected atomic.Int64 // records the receiver refused for good (skipped)
	Retries  atomic.Int64 // failed sends that were tried again
	Losses   atomic.Int64 // checkpoints whose file rotation dropped before it was shipped
	Failed   atomic.Int64 // sandboxes not shipped (a bad state file, a read error): once per failure, not per retry
}
