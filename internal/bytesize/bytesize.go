// Package bytesize reads byte counts written for people: 16MiB, 1.5G,
// 500MB, 4096.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// units are the suffixes Parse knows, upper-cased: single letters and IEC
// names are binary (as du, dd and docker read K, M, G), names ending in B
// after a letter are decimal (SI).
var units = map[string]float64{
	"": 1, "B": 1,
	"K": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
	"M": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
	"G": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
	"T": 1 << 40, "TIB": 1 << 40, "TB": 1e12,
}

// Max is the largest count Parse returns.
const Max = 1 << 62

// Parse reads a byte count: a number, possibly with a fraction, and an
// optional unit (B; K, M, G, T and KiB … TiB are powers of 1024; KB … TB
// powers of 1000; case does not matter). A negative or too large count, or
// anything else, is an error.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	mult, ok := units[strings.ToUpper(strings.TrimSpace(t[i:]))]
	if i == 0 || !ok {
		return 0, fmt.Errorf("bad size %q: want a number and an optional unit (B; KiB, MiB, GiB, TiB or K, M, G, T; KB, MB, GB, TB)", s)
	}
	n, err := strconv.ParseFloat(t[:i], 64)
	if err != nil || math.IsNaN(n) || n*mult > Max {
		return 0, fmt.Errorf("bad size %q: want a number from 0 to 4 EiB", s)
	}
	return int64(n * mult), nil
}
