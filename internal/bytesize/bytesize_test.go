package bytesize

import "testing"

func TestParse(t *testing.T) {
	good := map[string]int64{
		"0": 0, "4096": 4096, "16MiB": 16 << 20, "1GiB": 1 << 30, "1gib": 1 << 30, "64k": 64 << 10,
		"500MB": 500e6, "2 GB": 2e9, "1.5G": 3 << 29, "10b": 10, "1TiB": 1 << 40, " 8M ": 8 << 20,
	}
	for in, want := range good {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1.2.3", "12XB", "1e9", "1 GiBs", "NaN", "2PiB", "9999999999TB", "0x10", "."} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, got)
		}
	}
}
