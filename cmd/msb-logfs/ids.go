package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// parseIDs reads the values of --id, each a session id or a comma list of
// them, as decimal numbers (what ls sessions/ shows). An empty item, a sign,
// a non-digit or a number past 2^64-1 is refused, naming the value.
// They are returned sorted, without repeats: engine.Query.IDs.
func parseIDs(values []string) ([]uint64, error) {
	var ids []uint64
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
