package engine

import (
	"fmt"
	"io/fs"
	"sort"
)

// TEMPORARY SHIM — never commit.

func (v View) Session(id uint64) View { v.ByID, v.ID = true, id; return v }

type SessionInfo struct {
	ID          uint64
	First, Last Time
	Sources     SourceMask
	Entries     int64
	Bytes       int64
	Cursor      Cursor
}

var ErrNoSession = fmt.Errorf("no such session: %w", fs.ErrNotExist)

func (s *Sandbox) Sessions() ([]SessionInfo, error) {
	sc := s.NewScanner(Query{Mask: MaskAll})
	defer sc.Close()
	m := map[uint64]*SessionInfo{}
	err := sc.Next(func(e *Entry, after *State) error {
		if !e.HasID {
			return nil
		}
		si := m[e.ID]
		if si == nil {
			si = &SessionInfo{ID: e.ID, First: e.Time}
			m[e.ID] = si
		}
		si.Last = e.Time
		si.Sources |= 1 << e.Source
		si.Entries++
		si.Bytes += int64(len(e.Body))
		si.Cursor = after.Cursor
		return nil
	})
	var out []SessionInfo
	for _, si := range m {
		out = append(out, *si)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (s *Sandbox) Session(id uint64) (SessionInfo, error) {
	all, err := s.Sessions()
	if err != nil {
		return SessionInfo{}, err
	}
	for _, si := range all {
		if si.ID == id {
			return si, nil
		}
	}
	return SessionInfo{}, fmt.Errorf("session %d: %w", id, ErrNoSession)
}
