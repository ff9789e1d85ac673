//go:build !amd64

package logline

// specialImpls: the generic version, the only one on this architecture.
func specialImpls() []specialImpl {
	return []specialImpl{{"generic", specialIndexGeneric}}
}
