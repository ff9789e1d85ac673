package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// TestFollowersFitUnitLimit: the mount started with the descriptor limit
// of contrib/msb-logfs.service (or this machine's cap) runs with it as its
// soft limit too; following a sandbox that never rotated costs the mount
// at most 3 descriptors, one per log file (exec.log, runtime.log,
// kernel.log), as the rule of docs/install.md and docs/filesystem.md
// counts (512 + 7 × followed sandboxes + rotations since their oldest
// follower opened; 7 is a sandbox whose exec.log rotated four times); and
// the unit's limit is 3 descriptors for each of at least 50,000 followed
// sandboxes. Each follower here follows a sandbox of its own; followers
// sharing a sandbox's descriptors are TestFollowerDescriptors'.
func TestFollowersFitUnitLimit(t *testing.T) {
	unit := string(mustRead(t, filepath.Join("..", "contrib", "msb-logfs.service")))
	m := regexp.MustCompile(`(?m)^LimitNOFILE=([0-9]+)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("the unit sets no LimitNOFILE=N")
	}
	limit, err := strconv.Atoi(m[1])
	if err != nil {
		t.Fatal(err)
	}
	const followers = 300
	home := t.TempDir()
	names, err := msbwriter.GenerateMany(home, msbwriter.ManyOptions{Count: followers, Word: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	// A container may cap the hard limit below the unit's (raising it
	// needs CAP_SYS_RESOURCE): the mount then gets that cap.
	applied := limit
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Max < uint64(limit) {
		applied = int(rl.Max)
		t.Logf("this machine caps the hard limit at %d: the mount runs with that, not the unit's %d", applied, limit)
	}
	n := strconv.Itoa(applied)
	mnt := mountVia(t, []string{"prlimit", "--nofile=" + n + ":" + n}, plainBinary(t), home, filepath.Join(t.TempDir(), "mnt"))
	pid := mnt.cmd.Process.Pid
	if got := procLimit(t, pid, "Max open files"); got != n {
		t.Fatalf("the mount's descriptor limit is %s, want %s", got, n)
	}
	// The first followers also open what all of them share (the watcher,
	// the render cache): the cost of one more is measured after 100.
	var before int
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	buf := make([]byte, 1)
	for i, n := range names {
		if i == 100 {
			before = fdCount(t, pid)
		}
		f, err := os.OpenFile(mnt.path(n, "merged.follow"), os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		if _, err := f.Read(buf); err != nil { // the follower opens its files
			t.Fatalf("read %s: %v", f.Name(), err)
		}
	}
	perFollower := float64(fdCount(t, pid)-before) / (followers - 100)
	t.Logf("%d followed sandboxes that never rotated: %.2f descriptors each in the mount (%d in all); the unit's %d is 3 descriptors for each of %d", followers, perFollower, fdCount(t, pid), limit, limit/3)
	if perFollower > 3 {
		t.Errorf("following a sandbox that never rotated costs the mount %.2f descriptors, more than its 3 log files (docs/install.md counts one descriptor per log file)", perFollower)
	}
	if limit/3 < 50000 {
		t.Errorf("the unit's LimitNOFILE=%d is 3 descriptors (one per log file of a sandbox that never rotated) for each of %d followed sandboxes, want at least 50,000", limit, limit/3)
	}
}
