package msbwriter

import (
	"math/rand/v2"
	"strconv"
)

// content generates the data of corpus chunks from a seeded source. Every
// method appends to dst and returns the extended slice, so the generator
// allocates nothing per chunk.
type content struct {
	rng     *rand.Rand
	counter int64 // grows with every stdout line, for numbers that look alive
}

var words = []string{
	"request", "handled", "worker", "batch", "processed", "items", "ok",
	"cache", "miss", "hit", "loading", "module", "config", "from", "file",
	"connected", "to", "database", "query", "took", "retrying", "upload",
	"download", "bytes", "checksum", "verified", "queue", "depth", "job",
	"finished", "started", "user", "session", "token", "refreshed", "GET",
	"POST", "/api/v1/items", "/healthz", "200", "404", "latency", "p99",
	"compiling", "linking", "test", "passed", "skipped", "step", "epoch",
	"loss", "accuracy", "=", "->", "{", "}", "[", "]", "\"quoted\"", "a\\b",
	"path/to/file.txt", "key=value", "x", "y", "z", "the", "and", "of",
}

var unicodeWords = []string{
	"café", "naïve", "résumé", "日本語", "テスト", "中文", "données", "Grüße",
	"Ωmega", "€42", "🚀", "✅", "🙂", "👩‍💻", "ñandú", "Привет", "שלום",
}

var stderrLines = []string{
	"warning: unused variable `x` at src/lib.rs:",
	"error[E0308]: mismatched types in src/main.rs:",
	"Traceback (most recent call last):\n  File \"main.py\", line ",
	"npm WARN deprecated left-pad@1.3.0: use String.prototype.padStart, attempt ",
	"WARNING: retrying connection (attempt ",
	"E0501 grpc: addrConn.createTransport failed, code ",
	"panic: runtime error: index out of range [",
	"DeprecationWarning: datetime.utcnow() is deprecated, line ",
}

var ptyTemplates = []string{
	"\x1b[32m✓\x1b[0m test_case_",
	"\x1b[31mFAIL\x1b[0m test_case_",
	"\x1b[1;33mWARN\x1b[0m slow test ",
	"\x1b[1;34muser@sandbox\x1b[0m:\x1b[1;32m~/app\x1b[0m$ make -j",
	"\x1b]0;sandbox: running job \x07job ",
	"\x1b[2K\x1b[1G\x1b[36mbuilding\x1b[0m target ",
}

var systemMarkers = []string{
	"stdin closed",
	"pty resized to 120x40",
	"pty resized to 80x24",
	"signal SIGINT forwarded to process group",
	"exec relay reconnected",
	"output capture resumed",
	"guest agent heartbeat missed",
}

var runtimeMessages = []string{
	"INFO runtime: relay forwarded output chunk to host",
	"INFO runtime: vsock connection accepted from guest agent",
	"DEBUG runtime: agent heartbeat ok",
	"INFO runtime: exec session registered",
	"WARN runtime: slow consumer on output relay, buffering",
	"INFO runtime: virtiofs share mounted at /workspace",
	"ERROR runtime: failed to forward signal",
}

var runtimeContinuations = []string{
	"    caused by: connection reset by peer (os error 104)",
	"    at agentd::relay::pump (relay.rs:214)",
	"    note: retrying in 100ms",
}

var kernelMessages = []string{
	"virtio_net virtio1 eth0: link up",
	"EXT4-fs (vda): mounted filesystem with ordered data mode",
	"random: crng init done",
	"virtio_balloon virtio3: inflated 256 pages",
	"audit: type=1400 apparmor=\"STATUS\" operation=\"profile_load\"",
	"\x1b[33mwarning:\x1b[0m clocksource tsc unstable",
	"\x1b[1;31mOut of memory:\x1b[0m Killed process 4242 (python3)",
	"9pnet_virtio: no channels available for device",
}

func (c *content) pick(list []string) string { return list[c.rng.IntN(len(list))] }

// text appends words until n more bytes were written; about one line in
// thirty gets a non-ASCII word.
func (c *content) text(dst []byte, n int) []byte {
	end := len(dst) + n
	uni := c.rng.IntN(30) == 0
	for len(dst) < end {
		if len(dst) > end-n {
			dst = append(dst, ' ')
		}
		if uni && c.rng.IntN(4) == 0 {
			dst = append(dst, c.pick(unicodeWords)...)
		} else {
			dst = append(dst, c.pick(words)...)
		}
	}
	return dst
}

// stdoutLine appends one stdout line of about n bytes, without '\n'.
func (c *content) stdoutLine(dst []byte, n int) []byte {
	c.counter++
	switch c.rng.IntN(4) {
	case 0:
		dst = append(dst, "[INFO] #"...)
	case 1:
		dst = append(dst, "step "...)
	case 2:
		dst = append(dst, "worker-"...)
		dst = strconv.AppendInt(dst, int64(c.rng.IntN(16)), 10)
		dst = append(dst, ": item "...)
	default:
		dst = append(dst, "GET /api/v1/items/"...)
	}
	dst = strconv.AppendInt(dst, c.counter, 10)
	dst = append(dst, ' ')
	return c.text(dst, max(n-16, 1))
}

// stdout appends a stdout chunk: mostly one full line, sometimes a partial
// line or several lines.
func (c *content) stdout(dst []byte) []byte {
	r := c.rng.IntN(10)
	switch {
	case r < 6:
		return append(c.stdoutLine(dst, 10+c.rng.IntN(190)), '\n')
	case r < 8:
		return c.stdoutLine(dst, 10+c.rng.IntN(120))
	}
	lines := 2 + c.rng.IntN(4)
	for i := 0; i < lines; i++ {
		dst = append(c.stdoutLine(dst, 10+c.rng.IntN(60)), '\n')
	}
	if c.rng.IntN(3) == 0 {
		dst = c.stdoutLine(dst, 10+c.rng.IntN(30))
	}
	return dst
}

// stderr appends a warning, error or traceback chunk.
func (c *content) stderr(dst []byte) []byte {
	dst = append(dst, c.pick(stderrLines)...)
	dst = strconv.AppendInt(dst, int64(1+c.rng.IntN(999)), 10)
	if c.rng.IntN(3) == 0 {
		dst = append(dst, ": "...)
		dst = c.text(dst, 10+c.rng.IntN(60))
	}
	return append(dst, '\n')
}

// pty appends a PTY chunk with ANSI colours: a status line ending in
// "\r\n", or a progress bar redrawn with '\r' and no newline.
func (c *content) pty(dst []byte) []byte {
	if c.rng.IntN(3) == 0 {
		pct := c.rng.IntN(101)
		dst = append(dst, "\r\x1b[36m["...)
		for i := 0; i < 20; i++ {
			if i*5 < pct {
				dst = append(dst, '=')
			} else {
				dst = append(dst, ' ')
			}
		}
		dst = append(dst, "] "...)
		dst = strconv.AppendInt(dst, int64(pct), 10)
		return append(dst, "%\x1b[0m"...)
	}
	dst = append(dst, c.pick(ptyTemplates)...)
	dst = strconv.AppendInt(dst, int64(c.rng.IntN(10000)), 10)
	dst = append(dst, " ("...)
	dst = strconv.AppendInt(dst, int64(c.rng.IntN(900)), 10)
	return append(dst, "ms)\r\n"...)
}

// binary appends 16–128 random bytes that are not valid UTF-8.
func (c *content) binary(dst []byte) []byte {
	n := 16 + c.rng.IntN(113)
	start := len(dst)
	for i := 0; i < n; i++ {
		dst = append(dst, byte(c.rng.Uint32()))
	}
	dst[start] = 0xff // never valid in UTF-8
	return dst
}

// big appends a chunk of at least 1 MiB: a long multi-line dump for even k,
// one huge minified-JSON line (quote-heavy, so escape-heavy) for odd k.
func (c *content) big(dst []byte, k int) []byte {
	end := len(dst) + 1<<20
	if k%2 == 0 {
		for row := 0; len(dst) < end; row++ {
			dst = append(dst, "row "...)
			dst = strconv.AppendInt(dst, int64(row), 10)
			dst = append(dst, ": "...)
			dst = append(c.text(dst, 40+c.rng.IntN(80)), '\n')
		}
		return dst
	}
	dst = append(dst, `{"items":[`...)
	for id := 0; len(dst) < end; id++ {
		dst = append(dst, `{"id":`...)
		dst = strconv.AppendInt(dst, int64(id), 10)
		dst = append(dst, `,"name":"`...)
		dst = c.text(dst, 8+c.rng.IntN(24))
		dst = append(dst, `"},`...)
	}
	return append(dst, "{}]}\n"...)
}
