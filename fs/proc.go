package fs

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"sync"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// callerThread returns the thread that made the request served in ctx, or
// 0 when unknown.
func callerThread(ctx context.Context) int {
	c, ok := fuse.FromContext(ctx)
	if !ok {
		return 0
	}
	return int(c.Pid)
}

// opener is the thread that opened a handle and, found when first asked,
// its process. The threads of one process share their open files, so a
// stat by name is matched with handles by process; but most handles (those
// of grep, cat, tar) are never matched, and reading /proc at every open
// cost a seventh of the mount's CPU in a grep -r. If the opening thread has
// ended by the time its process is asked, the thread id stands for it (as
// tgid does for a thread it cannot read).
type opener struct {
	tid  int
	once sync.Once
	proc int
}

// process returns the opener's process, or 0 when unknown.
func (o *opener) process() int {
	o.once.Do(func() {
		if o.tid != 0 {
			o.proc = tgid(o.tid)
		}
	})
	return o.proc
}

// sameCaller reports whether the request served in ctx, from thread tid
// of process proc (0: not read yet), comes from the opener's process.
func (o *opener) sameCaller(tid int, proc func() int) bool {
	if tid == 0 || o.tid == 0 {
		return false
	}
	return tid == o.tid || o.process() == proc()
}

// tgid returns the thread group of thread tid, from /proc/<tid>/status; tid
// itself if that cannot be read.
func tgid(tid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return tid
	}
	for _, l := range bytes.Split(data, []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(l, []byte("Tgid:")); ok {
			if n, err := strconv.Atoi(string(bytes.TrimSpace(v))); err == nil {
				return n
			}
		}
	}
	return tid
}
