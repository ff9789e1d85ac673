package main

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// BenchmarkDecorate measures what --show-id and colour cost per byte
// against writing the same rendering as it is (the path logs takes
// without them): 64 KiB of 80-byte lines.
//
//	go test -run='^$' -bench=Decorate -benchmem ./cmd/msb-logfs/
func BenchmarkDecorate(b *testing.B) {
	body := bytes.Repeat(append(bytes.Repeat([]byte("x"), 79), '\n'), 64<<10/80)
	out := bufio.NewWriterSize(io.Discard, 256<<10)
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := out.Write(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decorated", func(b *testing.B) {
		d := lineDecorator{w: out}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			d.begin([]byte("[id:12] "), sgrStderr)
			if _, err := d.Write(body); err != nil {
				b.Fatal(err)
			}
			if err := d.end(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDecoratorSplitWrites: the decorator gives the same bytes however the
// rendering is cut into writes (the renderer writes long entries in
// pieces), and resets the colour of an entry that ends in mid-line.
func TestDecoratorSplitWrites(t *testing.T) {
	body := "ab\ncd\n\nef"
	want := "\x1b[31m> ab\x1b[0m\n\x1b[31m> cd\x1b[0m\n\x1b[31m> \x1b[0m\n\x1b[31m> ef\x1b[0m"
	for cut := 0; cut <= len(body); cut++ {
		var out bytes.Buffer
		d := lineDecorator{w: &out}
		d.begin([]byte("> "), sgrStderr)
		if _, err := d.Write([]byte(body[:cut])); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Write([]byte(body[cut:])); err != nil {
			t.Fatal(err)
		}
		if err := d.end(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("cut at %d: %q, want %q", cut, out.String(), want)
		}
	}
}
