package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes parseSize knows, lower-cased: single letters
// and IEC names are binary (as du, dd and docker read K, M, G), names
// ending in B after a letter are decimal (SI).
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// maxSize bounds a size flag: 1 PiB.
const maxSize = 1 << 50

// parseSize reads a byte count such as 16MiB, 1GiB, 500MB, 1.5G or 4096.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("bad size %q: want a number and an optional unit (B, KiB, MiB, GiB, TiB; K, M, G, T; KB, MB, GB, TB)", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v*mult > maxSize {
		return 0, fmt.Errorf("bad size %q: want a number from 0 to 1 PiB", s)
	}
	return int64(v * mult), nil
}
