package fs

import "testing"

// TestForgetKeepsNoHandle: a released handle is not kept by its node, not
// even in the free capacity of the node's list (a node lives while the
// kernel knows its file, and a handle holds its snapshot).
func TestForgetKeepsNoHandle(t *testing.T) {
	n := &fileNode{}
	a, b := &handle{node: n}, &handle{node: n}
	n.handles = []*handle{a, b}
	all := n.handles[:2:2]
	n.forget(a)
	if len(n.handles) != 1 || n.handles[0] != b {
		t.Fatalf("after forgetting the first, handles = %v", n.handles)
	}
	n.forget(b)
	if len(n.handles) != 0 {
		t.Fatalf("after forgetting both, handles = %v", n.handles)
	}
	for i, h := range all {
		if h != nil {
			t.Errorf("slot %d of the list still holds a released handle", i)
		}
	}
}
