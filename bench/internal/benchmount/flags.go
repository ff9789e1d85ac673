package benchmount

import (
	"flag"
	"fmt"
	"log"
	"os"
)

// Common is what every bench command's command line holds besides its own
// flags.
type Common struct {
	Bin string // -bin: the msb-logfs binary; "" builds ./cmd/msb-logfs
	KV  string // -kv: also write the figures as key=value lines to this file
}

// ParseFlags is the start of a bench command's main: it sets the log
// prefix to name, defines -bin and -kv beside the flags the caller defined
// on flag.CommandLine, and parses the command line, with about (which may
// be "") above the flags in -h's output. It exits 2 with the usage when an
// argument is left over or check (which may be nil) returns an error,
// which it prints first.
func ParseFlags(name, about string, check func() error) Common {
	log.SetFlags(0)
	log.SetPrefix(name + ": ")
	var c Common
	flag.StringVar(&c.Bin, "bin", "", "msb-logfs binary (default: go build ./cmd/msb-logfs into a temporary directory)")
	flag.StringVar(&c.KV, "kv", "", "also write the figures as key=value lines to `FILE`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: %s [flags]\n\n%s", name, about)
		flag.PrintDefaults()
	}
	flag.Parse()
	err := error(nil)
	if flag.NArg() != 0 {
		err = fmt.Errorf("unexpected arguments %q", flag.Args())
	} else if check != nil {
		err = check()
	}
	if err != nil {
		fmt.Fprintf(flag.CommandLine.Output(), "%s: %v\n", name, err)
		flag.Usage()
		os.Exit(2)
	}
	return c
}
