// Package walk measures the host-wide walk of an msb-logfs mount: grep -r,
// cp -r, cat, stat and find over many small sandboxes, each timed against
// the same tree copied to disk and that copy served by the go-fuse loopback
// (bench/loopback), in the same run. It also writes the corpora of small
// sandboxes it walks (msbwriter).
//
// The mount process itself (start, stop, /proc figures) is benchmount's;
// the table the figures go into is the driver's (bench/run).
package walk
