// Package walk measures the host-wide walk of an msb-logfs mount: grep -r,
// cp -r, stat, cat, find and du over many small sandboxes, each against a
// reference taken in the same run; and it writes the corpora of small
// sandboxes it walks (with msbwriter, as microsandbox writes them).
//
// How it measures:
//
//   - Every msb-logfs mount is fresh (a new mountpoint and --cache-dir),
//     runs under prlimit --nofile (1,024), and is a cold start; the logs
//     on disk are read once before, so the page cache is warm for the
//     mount as for the references.
//   - The reference tree is the mount's own output: its `cp -r MNT copy`
//     (a timed row) is the copy, so that both sides hold the same rendered
//     files. The copy is read plain ("plain": what the kernel does with no
//     FUSE) and through a fresh go-fuse loopback mount of it without
//     passthrough ("loopback": what any FUSE filesystem pays per request).
//     Each of the three trees gets the same sequence: grep -r, the same
//     grep -r again, cp -r.
//   - Each grep -r must find the word in the merged of every sandbox, or
//     the row fails.
//   - Cold sandboxes: on another fresh mount (and a fresh loopback), stat
//     of merged of the first Stats sandboxes, then cat of merged of the
//     next Stats; none touched before on those mounts. The CPU per stat is
//     the serving process's CPU time over the whole stat(1) run (the run
//     time of its threads, to the nanosecond, from schedstat).
//   - The warm cat is the fastest of three cats of the big sandbox's
//     merged after a first one, against the same of a plain cat of a copy
//     of it and of a cat of that copy through the loopback.
//   - The scaling corpus (10,000 sandboxes) has no copy (it would take
//     minutes to make): its references are the same commands over the
//     sandboxes' logs directories, and the walk's first grep -r.
//
// The mount process itself (start, stop, /proc figures) is benchmount's;
// the table the figures go into is the driver's (bench/run).
package walk
