package main

import (
	"fmt"

	"github.com/microsandbox/msb-logfs/internal/bytesize"
)

// maxSize bounds a size flag: 1 PiB.
const maxSize = 1 << 50

// parseSize reads a byte count such as 16MiB, 1GiB, 500MB, 1.5G or 4096.
func parseSize(s string) (int64, error) {
	n, err := bytesize.Parse(s)
	if err != nil {
		return 0, err
	}
	if n > maxSize {
		return 0, fmt.Errorf("bad size %q: at most 1 PiB", s)
	}
	return n, nil
}
