package logline

import "golang.org/x/sys/cpu"

// useAVX2 is whether SpecialIndex runs specialIndexAVX2, from the CPU's
// features. Only a test changes it (to run the generic version).
var useAVX2 = cpu.X86.HasAVX2

// specialIndexAVX2 computes what specialIndexGeneric does, 32 bytes per
// step (special_amd64.s). Only call it when useAVX2.
//
//go:noescape
func specialIndexAVX2(b []byte) (int, bool)

// SpecialIndex returns the index of the first byte of b that a JSON string
// cannot hold as is ('"', '\\' or a control character), or -1, and whether
// the bytes before it are all ASCII. It is in special_amd64.s: a jump to
// specialIndexAVX2 when useAVX2, else to specialIndexGeneric, so that a
// call costs one call, not two.
//
//go:noescape
func SpecialIndex(b []byte) (int, bool)
