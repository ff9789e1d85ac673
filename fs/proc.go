package fs

import (
	"bytes"
	"context"
	"os"
	"strconv"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// callerProcess returns the process (thread group) of the request served in
// ctx, or 0 when unknown. The kernel gives the calling thread's id; the
// threads of one process share their open files, so handles are matched by
// process.
func callerProcess(ctx context.Context) int {
	c, ok := fuse.FromContext(ctx)
	if !ok || c.Pid == 0 {
		return 0
	}
	return tgid(int(c.Pid))
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
