package logline

import "testing"

// specialImpls: the generic version, which runs on every machine, and the
// AVX2 one when the CPU has AVX2; both through SpecialIndex as well.
func specialImpls() []specialImpl {
	impls := []specialImpl{{"generic", specialIndexGeneric}}
	if useAVX2 {
		impls = append(impls, specialImpl{"avx2", specialIndexAVX2}, specialImpl{"dispatch", SpecialIndex})
	}
	return impls
}

// TestSpecialIndexDispatch: SpecialIndex runs the generic version when the
// CPU has no AVX2.
func TestSpecialIndexDispatch(t *testing.T) {
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	useAVX2 = false
	in := []byte("ab\xffcd\\")
	if k, ascii := SpecialIndex(in); k != 5 || ascii {
		t.Fatalf("SpecialIndex without AVX2 = %d, %v; want 5, false", k, ascii)
	}
}
