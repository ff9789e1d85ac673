// Package benchmount is the shared harness of the whole-process benchmarks
// that measure msb-logfs through a real FUSE mount (bench/run and the
// commands it runs: bench/latency, bench/idle, bench/many,
// bench/sessions). It holds what they need around the measurement: the
// flags they share and their temporary work directory, a microsandbox
// home with one sandbox (written with msbwriter), the msb-logfs binary
// (given, or built from ./cmd/msb-logfs), the `msb-logfs mount` and
// bench/loopback subprocesses (started, waited for, stopped with a signal,
// and unmounted, detached as a last resort, should they leave their mount
// behind), timed runs of other commands (wall time, peak RSS, lines out),
// follow files opened with a raw blocking open(2), readers of /proc/PID
// figures (CPU time, memory, fds, threads, inotify instances, I/O), signal
// handling for main, and the output helpers (-kv key=value lines,
// percentiles, durations, log tails).
//
// What each benchmark measures, and how it prints it, is not here: that
// stays in the commands, in the walk (bench/internal/walk) and in the
// report table (bench/internal/table).
package benchmount
