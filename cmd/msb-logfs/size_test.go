package main

import "testing"

func TestParseSize(t *testing.T) {
	if n, err := parseSize("16MiB"); err != nil || n != 16<<20 {
		t.Fatalf("parseSize(16MiB) = %d, %v", n, err)
	}
	for _, in := range []string{"2PiB", "1025TiB", "lots", "-1"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, n)
		}
	}
}
