package chain

// SetWalkHook sets walkHook until the test ends.
func SetWalkHook(t interface{ Cleanup(func()) }, hook func(name string)) {
	walkHook = hook
	t.Cleanup(func() { walkHook = nil })
}

// MapFaults returns how many faults of mapped spans the parse-ahead
// recovered from.
func MapFaults() int64 { return mapFaults.Load() }

// OnSpanMapped makes f called with each span's file and range once it is
// mapped, until the returned function restores the hook it replaced.
func OnSpanMapped(f func(f FileRef, from, to int64)) (restore func()) {
	saved := spanMapped
	spanMapped = f
	return func() { spanMapped = saved }
}
