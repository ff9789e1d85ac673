package fs

import "sync/atomic"

// tally counts one node in the mount's counts of the nodes (and states)
// the kernel knows: in at a lookup that answers with it, out at its
// forget, once each way. go-fuse may call OnForget twice for one node (a
// lookup took it up again while the kernel forgot it): the second counts
// nothing out. Counts may still be off by one for a while: a node two
// racing lookups made, counted in and then dropped by go-fuse for the
// other; a node a lookup took up again just before its forget, counted in
// again only at its next lookup. They are for tests and figures, not for
// decisions.
type tally struct {
	in atomic.Bool
}

// lookedUp counts the node in, if it is not: isState says it is a state
// of a snapshot file.
func (t *tally) lookedUp(st *state, isState bool) {
	if !t.in.Swap(true) {
		st.nodes.Add(1)
		if isState {
			st.states.Add(1)
		}
	}
}

// forgotten counts the node out, if it is in.
func (t *tally) forgotten(st *state, isState bool) {
	if t.in.Swap(false) {
		st.nodes.Add(-1)
		if isState {
			st.states.Add(-1)
		}
	}
}
