// Package benchmount is the shared harness of the whole-process benchmarks
// that measure msb-logfs through a real FUSE mount (bench/latency and
// bench/idle). It holds what both need around the measurement: a temporary
// microsandbox home with one sandbox (written with msbwriter), the
// msb-logfs binary (given, or built from ./cmd/msb-logfs), the
// `msb-logfs mount` subprocess (started, waited for, stopped with a signal,
// and unmounted, detached as a last resort, should it leave its mount
// behind), follow files opened with a raw blocking open(2), readers of
// /proc/PID figures (CPU time, memory, threads, inotify instances, I/O),
// signal handling for main, and the output helpers (-kv key=value lines,
// percentiles, durations, log tails).
//
// What each benchmark measures, and how it prints it, is not here: the
// writer and reader of bench/latency, the idle `cat` readers of bench/idle
// and their reports stay in those commands. Nor is the go-fuse loopback
// reference (bench/loopback), which mounts no msb-logfs at all.
package benchmount
