package benchmount

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture.
const clockTicks = 100

// CPUSeconds returns the user plus system CPU time of pid, all threads
// (utime and stime, fields 14 and 15 of /proc/PID/stat).
func CPUSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := statFields(data)
	if f == nil {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	if len(f) < 13 { // utime and stime are fields 14 and 15: f[11], f[12]
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime: %w", pid, err)
	}
	return float64(utime+stime) / clockTicks, nil
}

// ProcState returns the state of pid (field 3 of /proc/PID/stat: 'S' for
// an interruptible sleep), or 0.
func ProcState(pid int) byte {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := statFields(data)
	if len(fields) == 0 || len(fields[0]) == 0 {
		return 0
	}
	return fields[0][0]
}

// statFields returns the fields of /proc/PID/stat after the command name,
// starting with the state (field 3); nil without a command name.
func statFields(data []byte) []string {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

// ContextSwitches sums the voluntary and involuntary context switches of
// pid's threads (threads that exit take theirs with them).
func ContextSwitches(pid int) int64 {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var n int64
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
		if err != nil {
			continue
		}
		for l := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += c
			}
		}
	}
	return n
}

// StatusField returns the number of field name of /proc/PID/status (kB
// for the memory fields, such as VmRSS and VmHWM), or -1.
func StatusField(pid int, name string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for l := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == name {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// InotifyInstances counts pid's inotify file descriptors and their watches.
func InotifyInstances(pid int) (instances, watches int) {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil || target != "anon_inode:inotify" {
			continue
		}
		instances++
		info, _ := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		watches += bytes.Count(info, []byte("inotify wd:"))
	}
	return instances, watches
}

// ReadChars returns rchar of /proc/PID/io: the bytes pid's read calls
// returned so far, or -1.
func ReadChars(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for l := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// CurrentSyscall returns the number of the system call pid sleeps in, from
// /proc/PID/syscall; ok is false when it cannot be read.
func CurrentSyscall(pid int) (nr int, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, false
	}
	nr, err = strconv.Atoi(f[0])
	return nr, err == nil
}

// ThreadCPU returns the CPU time pid's live threads have used, to the
// nanosecond: the sum of the first field of /proc/PID/task/*/schedstat.
// A thread that has exited takes its time with it (a Go process's threads
// seldom exit); CPUSeconds counts those too, but in 10 ms ticks.
func ThreadCPU(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // exited since the listing
		}
		f := strings.Fields(string(data))
		if len(f) < 1 {
			return 0, fmt.Errorf("/proc/%d/task/%s/schedstat: empty", pid, t.Name())
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || ns < 0 {
			return 0, fmt.Errorf("/proc/%d/task/%s/schedstat: bad run time %q", pid, t.Name(), f[0])
		}
		total += time.Duration(ns)
	}
	return total, nil
}
