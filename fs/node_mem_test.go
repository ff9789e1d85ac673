package fs

import (
	"runtime"
	"testing"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/microsandbox/msb-logfs/cursorfs"
	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestKnownNodeBytes measures what the mount keeps for each file and
// directory the kernel knows: the node tree is driven through go-fuse's
// raw LOOKUP and FORGET, as the kernel drives it, over many small
// sandboxes; the heap with every node known, less the heap once all are
// forgotten (the engine's state of the sandboxes stays), is their cost.
func TestKnownNodeBytes(t *testing.T) {
	names, raw, _ := rawTree(t, 300, 10)
	files := []string{"merged", "stdout", "stderr", "output", "system", "merged.jsonl", "cursor", "sessions"}
	type known struct{ id, n uint64 }
	walk := func() []known {
		var nodes []known
		for _, sb := range names {
			var out fuse.EntryOut
			if st := raw.Lookup(nil, &fuse.InHeader{NodeId: 1}, sb, &out); st != fuse.OK {
				t.Fatalf("lookup %s: %v", sb, st)
			}
			dir := out.NodeId
			nodes = append(nodes, known{dir, 1})
			for _, f := range files {
				if st := raw.Lookup(nil, &fuse.InHeader{NodeId: dir}, f, &out); st != fuse.OK {
					t.Fatalf("lookup %s/%s: %v", sb, f, st)
				}
				nodes = append(nodes, known{out.NodeId, 1})
			}
		}
		return nodes
	}
	forget := func(nodes []known) {
		for i := len(nodes) - 1; i >= 0; i-- {
			raw.Forget(nodes[i].id, nodes[i].n)
		}
	}
	forget(walk()) // the engine's state of every sandbox, made once
	before := heap()
	nodes := walk()
	with := heap()
	forget(nodes)
	after := heap()
	per := (float64(with) - float64(after)) / float64(len(nodes))
	t.Logf("%d nodes: heap %d before, %d known, %d forgotten: %.0f bytes per known node", len(nodes), before, with, after, per)
	if per > 2048 {
		t.Errorf("%.0f bytes per known node, want at most 2 KiB", per)
	}
}

// heap returns the bytes of the live heap after a collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rawTree makes a home of count small sandboxes of lines exec lines each
// and returns their names and the raw node tree of a mount of it, with no
// kernel: the test drives it with LOOKUP and FORGET as the kernel does.
func rawTree(t *testing.T, count, lines int) ([]string, fuse.RawFileSystem, *state) {
	t.Helper()
	home := t.TempDir()
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: count, Lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	h, err := engine.OpenHome(home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	fsys := cursorfs.New(h)
	t.Cleanup(fsys.Shutdown)
	st := &state{fsys: fsys}
	zero := time.Duration(0)
	raw := gofs.NewNodeFS(&dirNode{st: &scope{state: st}, dir: fsys.Root()}, &gofs.Options{EntryTimeout: &zero, AttrTimeout: &zero, NullPermissions: true})
	return names, raw, st
}
