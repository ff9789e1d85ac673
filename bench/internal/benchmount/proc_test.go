package benchmount

import (
	"os"
	"testing"
	"time"
)

// spins counts spin's loops, so that the loop is not optimised away.
var spins int

// spin keeps a CPU busy for d.
func spin(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		spins++
	}
}

func TestThreadCPUCountsThisProcess(t *testing.T) {
	pid := os.Getpid()
	before, err := ThreadCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	ticks0, _ := CPUSeconds(pid)
	spin(200 * time.Millisecond)
	after, err := ThreadCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	ticks1, _ := CPUSeconds(pid)
	used := after - before
	// A loaded machine may give the spinning thread less than the wall
	// time, never more (plus the runtime's own threads).
	if used < 20*time.Millisecond || used > 2*time.Second {
		t.Errorf("200 ms of spinning: ThreadCPU grew %v", used)
	}
	if ticks := time.Duration((ticks1 - ticks0) * float64(time.Second)); ticks < used/2-20*time.Millisecond {
		t.Errorf("ThreadCPU grew %v, utime+stime %v: far apart", used, ticks)
	}
	if _, err := ThreadCPU(-1); err == nil {
		t.Error("ThreadCPU(-1): no error")
	}
}
