package chain

// SetWalkHook sets walkHook until the test ends.
func SetWalkHook(t interface{ Cleanup(func()) }, hook func(name string)) {
	walkHook = hook
	t.Cleanup(func() { walkHook = nil })
}
