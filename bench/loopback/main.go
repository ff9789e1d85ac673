// Package main is the loopback command. It mounts a directory read-only
// through go-fuse's loopback filesystem. It is the speed reference of the
// msb-logfs benchmarks (bench/run): the same FUSE stack as msb-logfs,
// serving the files unchanged.
//
// FUSE passthrough is disabled on purpose. With passthrough the kernel reads
// the backing file itself and never asks the process, but msb-logfs views are
// generated, so every read of them is a round trip into the process; the
// reference has to pay the same price to be comparable.
//
// Usage:
//
//	loopback -src DIR -mnt MOUNTPOINT [-debug]
//
// It prints "ready" on stdout once the mount is usable, and unmounts and
// exits 0 on SIGINT or SIGTERM (or when the mount is unmounted from outside).
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("loopback: ")

	src := flag.String("src", "", "directory to serve (required)")
	mnt := flag.String("mnt", "", "mountpoint, must exist (required)")
	debug := flag.Bool("debug", false, "log every FUSE request to stderr")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(),
			"Usage: %s -src DIR -mnt MOUNTPOINT [-debug]\n\n"+
				"Mounts DIR read-only on MOUNTPOINT through go-fuse's loopback\n"+
				"filesystem, without FUSE passthrough. Prints \"ready\" once mounted;\n"+
				"unmounts on SIGINT/SIGTERM.\n\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if *src == "" || *mnt == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*src, *mnt, *debug); err != nil {
		log.Fatal(err)
	}
}

func run(src, mnt string, debug bool) error {
	src, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	mnt, err = filepath.Abs(mnt)
	if err != nil {
		return err
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("FUSE is not available: %v", err)
	}

	root, err := fs.NewLoopbackRoot(src)
	if err != nil {
		return fmt.Errorf("serving %s: %v", src, err)
	}

	// go-fuse's defaults (what fs.Mount uses for nil options): 1 s entry
	// and attribute timeouts.
	timeout := time.Second
	opts := &fs.Options{
		EntryTimeout: &timeout,
		AttrTimeout:  &timeout,
		MountOptions: fuse.MountOptions{
			FsName: src,
			Name:   "msb-loopback",
			// "ro" is understood by both mount(2) and fusermount3.
			Options: []string{"ro"},
			// As root, mount(2) directly (there may be no fusermount3);
			// go-fuse falls back to fusermount3 if that fails. As a
			// normal user, fusermount3 is the only way.
			DirectMount: os.Geteuid() == 0,
			// LoopbackFile offers its descriptor for passthrough
			// (fs.FilePassthroughFder) and go-fuse uses it whenever the
			// kernel grants CAP_PASSTHROUGH. Refusing the capability
			// at INIT makes every backing-fd registration fail, so
			// every read goes through this process.
			DisabledCapabilities: fuse.CAP_PASSTHROUGH,
			Debug:                debug,
		},
	}
	if debug {
		opts.Logger = log.New(os.Stderr, "", log.Lmicroseconds)
	}

	server, err := fs.Mount(mnt, root, opts)
	if err != nil {
		return fmt.Errorf("mounting %s on %s: %v", src, mnt, err)
	}
	if debug && server.KernelSettings().Flags64()&fuse.CAP_PASSTHROUGH != 0 {
		log.Printf("the kernel offers passthrough; refused")
	}
	fmt.Println("ready")

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		server.Wait() // returns once unmounted, by us or from outside
		close(done)
	}()

	select {
	case <-done:
		return nil
	case sig := <-sigs:
		if debug {
			log.Printf("%v: unmounting %s", sig, mnt)
		}
	}
	if err := server.Unmount(); err != nil {
		// Busy (a reader holds a file open): detach it so that no dead
		// mount is left behind when we exit.
		log.Printf("unmount %s: %v; detaching it", mnt, err)
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("detaching %s: %v", mnt, err)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Second):
		// Still open through a detached mount: exiting closes the FUSE
		// connection, which fails those handles with ENOTCONN.
		log.Printf("%s: files still open after detaching; exiting anyway", mnt)
	}
	return nil
}
