package engine

import (
	"fmt"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
)

// passFiles is what a sequential reader (Reader, Scanner) holds between
// passes: the files it read last, so that their inode numbers — its
// cursor's generations — cannot be reused meanwhile, and their witness.
type passFiles struct {
	files *chain.FileSet
	wit   *chain.Witness // of files, taken before they were read
}

// reopen starts a pass of m, over a stream of mask, on the sandbox's
// current files, which it holds from then on in place of the last pass's.
// The pass starts from st with every text origin rewritten in place since
// back at its start; reopen returns that state. ok is false when m was not
// reset: err says why, or is nil while a sandbox being removed has nothing
// new (see Sandbox.lostPosition).
func (h *passFiles) reopen(sb *Sandbox, m *chain.Merger, mask SourceMask, st State) (State, bool, error) {
	files, err := chain.OpenFileSet(sb.table)
	if err != nil {
		return st, false, fmt.Errorf("sandbox %s: %w", sb.name, err)
	}
	h.files.Release()
	h.files = files
	st = chain.RestartRewritten(h.wit, files, st)
	h.wit = chain.TakeWitness(files)
	if err := m.Reset(files, mask, st); err != nil {
		return st, false, sb.lostPosition(fmt.Errorf("%w: %v", ErrMissedRotation, err), len(files.Chain))
	}
	return st, true, nil
}

// release drops the held files.
func (h *passFiles) release() {
	h.files.Release()
	h.files = nil
}
