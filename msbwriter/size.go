package msbwriter

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits maps a size suffix to its multiplier. Single letters and the
// IEC forms are binary; KB, MB and GB are decimal.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KIB": 1 << 10, "KB": 1000,
	"M": 1 << 20, "MIB": 1 << 20, "MB": 1000 * 1000,
	"G": 1 << 30, "GIB": 1 << 30, "GB": 1000 * 1000 * 1000,
}

// ParseSize parses a byte size such as "200MiB", "40M", "256KiB", "1.5GiB",
// "10MB" or "4096". K, M, G and KiB, MiB, GiB are powers of 1024; KB, MB, GB
// powers of 1000; case does not matter.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	mult, ok := sizeUnits[strings.ToUpper(strings.TrimSpace(t[i:]))]
	if !ok || i == 0 {
		return 0, fmt.Errorf("msbwriter: bad size %q (want e.g. 200MiB, 40M, 4096)", s)
	}
	n, err := strconv.ParseFloat(t[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("msbwriter: bad size %q: %w", s, err)
	}
	v := n * float64(mult)
	if v >= 1<<62 {
		return 0, fmt.Errorf("msbwriter: size %q is too large", s)
	}
	return int64(v), nil
}
