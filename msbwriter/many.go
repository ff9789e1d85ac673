package msbwriter

import (
	"fmt"
	"time"
)

// ManyOptions configures GenerateMany.
type ManyOptions struct {
	Count  int    // sandboxes to make
	Lines  int    // exec chunks per sandbox (a line of about 70 bytes each); 0 means 40
	Word   string // written once to each sandbox's stdout, in a line "<Word> in <name>"
	Prefix string // sandbox names are Prefix followed by a 5-digit number; "" means "sb-"
}

// GenerateMany makes opts.Count small sandboxes in home, the way a host
// that keeps many of them looks: each has a few KiB of exec.log (stdout
// and stderr), a runtime.log and a kernel.log, and opts.Word once on its
// stdout. It returns the names, in order.
func GenerateMany(home string, opts ManyOptions) ([]string, error) {
	if opts.Count < 0 || opts.Count > 1_000_000 {
		return nil, fmt.Errorf("msbwriter: %d sandboxes: want 0 to 1000000", opts.Count)
	}
	if opts.Lines <= 0 {
		opts.Lines = 40
	}
	if opts.Prefix == "" {
		opts.Prefix = "sb-"
	}
	names := make([]string, opts.Count)
	for i := range names {
		names[i] = fmt.Sprintf("%s%05d", opts.Prefix, i)
		if err := writeSmall(home, names[i], opts); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// smallBase is the time of every small sandbox's first entry.
var smallBase = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func writeSmall(home, name string, opts ManyOptions) error {
	s, err := Create(home, name, Options{})
	if err != nil {
		return err
	}
	at := func(i int) time.Time { return smallBase.Add(time.Duration(i) * time.Millisecond) }
	for i := range opts.Lines {
		src := "stdout"
		if i%5 == 4 {
			src = "stderr"
		}
		data := fmt.Sprintf("%s step %d of %d: ok, %d items processed in %d ms\n", name, i, opts.Lines, i*17, i%13)
		if i == opts.Lines/2 {
			data = fmt.Sprintf("%s in %s\n", opts.Word, name)
			src = "stdout"
		}
		err = s.Exec(Chunk{Time: at(i), Source: src, Data: []byte(data), ID: 1, HasID: true})
		if err == nil && i%10 == 0 {
			err = s.Runtime(fmt.Sprintf("%s INFO sandbox %s: heartbeat %d", at(i).Format(TimeFormat), name, i))
		}
		if err == nil && i%20 == 0 {
			err = s.Kernel(fmt.Sprintf("[%4d.%06d] virtio: queue %d ready", i/10, i%1000, i))
		}
		if err != nil {
			s.Close()
			return err
		}
	}
	return s.Close()
}
