package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/microsandbox/msb-logfs/engine"
)

// idSet is the set of session ids --id asks for; nil asks for every entry.
type idSet []uint64

// parseIDs reads the values of --id, each a session id or a comma list of
// them, as decimal numbers (what ls sessions/ shows). An empty item, a sign,
// a non-digit or a number past 2^64-1 is refused, naming the value.
func parseIDs(values []string) (idSet, error) {
	var ids idSet
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			id, err := strconv.ParseUint(item, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("--id %q: want session ids, decimal numbers from 0 to %d, separated by commas", v, uint64(1<<64-1))
			}
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// has reports whether e passes the set: every entry for a nil set, else an
// entry with one of its ids (entries without an id, such as system ones,
// belong to no session).
func (s idSet) has(e *engine.Entry) bool {
	if s == nil {
		return true
	}
	if !e.HasID {
		return false
	}
	_, ok := slices.BinarySearch(s, e.ID)
	return ok
}
