//go:build !amd64

package logline

// SpecialIndex returns the index of the first byte of b that a JSON string
// cannot hold as is ('"', '\\' or a control character), or -1, and whether
// the bytes before it are all ASCII.
func SpecialIndex(b []byte) (int, bool) { return specialIndexGeneric(b) }
