package msbwriter

import (
	"fmt"

	"github.com/microsandbox/msb-logfs/internal/bytesize"
)

// ParseSize parses a byte size such as "200MiB", "40M", "256KiB", "1.5GiB",
// "10MB" or "4096". K, M, G and KiB, MiB, GiB are powers of 1024; KB, MB, GB
// powers of 1000; case does not matter.
func ParseSize(s string) (int64, error) {
	n, err := bytesize.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("msbwriter: %w", err)
	}
	return n, nil
}
