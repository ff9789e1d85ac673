package fs

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// otherThread returns the id of another thread of this process, kept alive
// until the test ends.
func otherThread(t *testing.T) int {
	tids, done := make(chan int), make(chan struct{})
	go func() {
		runtime.LockOSThread() // the thread ends with this goroutine, after the test
		defer runtime.UnlockOSThread()
		tids <- unix.Gettid()
		<-done
	}()
	t.Cleanup(func() { close(done) })
	return <-tids
}

// TestOpenerSameCaller: a request from the thread that opened a handle
// matches without reading /proc; one from another thread of its process
// matches through /proc; one from another process does not; an unknown
// thread never matches.
func TestOpenerSameCaller(t *testing.T) {
	self := unix.Gettid()
	other := otherThread(t)
	reads := 0
	procOf := func(tid int) func() int {
		return func() int { reads++; return tgid(tid) }
	}
	o := &opener{tid: self}
	if !o.sameCaller(self, procOf(self)) || reads != 0 {
		t.Fatalf("the opening thread: matched only after %d /proc reads", reads)
	}
	if !o.sameCaller(other, procOf(other)) || o.process() != os.Getpid() {
		t.Fatalf("another thread of the process (tgid %d): no match, opener's process %d", tgid(other), o.process())
	}
	if o.sameCaller(1, procOf(1)) {
		t.Fatal("init's request matched a handle of the test process")
	}
	if o.sameCaller(0, procOf(0)) || (&opener{}).sameCaller(self, procOf(self)) {
		t.Fatal("an unknown thread matched")
	}
}
