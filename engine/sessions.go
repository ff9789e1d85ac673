package engine

import (
	"fmt"

	"github.com/microsandbox/msb-logfs/engine/internal/chain"
	"github.com/microsandbox/msb-logfs/engine/internal/index"
)

// Sessions returns the sessions of the sandbox's logs, sorted by ID. It
// reads the index brought up to date and renders nothing.
func (s *Sandbox) Sessions() ([]SessionInfo, error) {
	var out []SessionInfo
	err := s.withSummary(ViewMerged, false, accessStat, func(x *index.Index, _ chain.Times) {
		sums := x.Sessions()
		out = make([]SessionInfo, len(sums))
		for i := range sums {
			out[i] = sums[i].SessionInfo
		}
	})
	return out, err
}

// SessionsReady reports whether Sessions would answer now without a pass
// over the logs: from a parked summary of the full merge's index whose
// stamp the log names show, or from that index brought up to the state
// held now. A listing may then give the sessions directory's entry, whose
// stat lists the sessions, at no more cost than a stat of a file.
func (s *Sandbox) SessionsReady() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.parkedNow(); p != nil {
		return p.index(MaskAll) != nil
	}
	x := s.indexes[MaskAll]
	return s.holding(accessStat) && x != nil && x.Files() != nil && s.upTo[MaskAll] == s.looks
}

// StatsReady reports whether a stat of each of the sandbox's views (the
// files of its directory) would answer now without a pass over all of its
// logs: from a parked summary of both its indexes, the full merge's and
// the system view's, whose stamp the log names show, or from both indexes
// held, which a stat brings up to the files with a pass over what was
// written since. A listing may then give each file's entry with its
// attributes, at little more cost than the stats.
func (s *Sandbox) StatsReady() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	streams := [...]SourceMask{MaskAll, ViewSystem.Stream()}
	if p := s.parkedNow(); p != nil {
		return p.index(streams[0]) != nil && p.index(streams[1]) != nil
	}
	for _, stream := range streams {
		if x := s.indexes[stream]; x == nil || x.Files() == nil {
			return false
		}
	}
	return true
}

// Session returns session id, with the cursor just after its last entry.
// An id the logs do not hold gives an error wrapping ErrNoSession.
func (s *Sandbox) Session(id uint64) (SessionInfo, error) {
	return s.session(id, true, accessStat)
}

// SessionSummary returns session id as Sessions lists it, without its
// cursor: a lookup in the index, for a stat of its directory. An id the
// logs do not hold gives an error wrapping ErrNoSession.
func (s *Sandbox) SessionSummary(id uint64) (SessionInfo, error) {
	return s.session(id, false, accessStat)
}

func (s *Sandbox) session(id uint64, withCursor bool, a access) (SessionInfo, error) {
	var info SessionInfo
	var err error
	with := func(v View, warm bool, fn func(*index.Index, *chain.FileSet)) error {
		return s.withIndexFor(v, warm, a, fn)
	}
	if !withCursor { // a lookup in the index, which a parked summary answers
		with = func(v View, warm bool, fn func(*index.Index, *chain.FileSet)) error {
			return s.withSummary(v, warm, a, func(x *index.Index, _ chain.Times) { fn(x, nil) })
		}
	}
	werr := with(ViewMerged, false, func(x *index.Index, _ *chain.FileSet) {
		sum, ok := x.Session(id)
		if !ok {
			err = fmt.Errorf("sandbox %s: session %d: %w", s.name, id, ErrNoSession)
			return
		}
		info = sum.SessionInfo
		if !withCursor {
			return
		}
		if info.Cursor, err = x.SessionEnd(id); err != nil {
			err = fmt.Errorf("sandbox %s: session %d: %w", s.name, id, err)
		}
	})
	if werr != nil {
		return SessionInfo{}, werr
	}
	return info, err
}

// sessionSize returns the size of session view v in index x, or an error
// wrapping ErrNoSession if x holds no entry of the session.
func (s *Sandbox) sessionSize(x *index.Index, v View) (int64, error) {
	sum, ok := x.Session(v.ID)
	if !ok {
		return 0, fmt.Errorf("sandbox %s: session %d: %w", s.name, v.ID, ErrNoSession)
	}
	return sum.Size[index.TrackedIndex(v)], nil
}
