package msbwriter

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// CorpusOptions configures GenerateCorpus.
type CorpusOptions struct {
	TotalBytes int64     // total exec bytes to write; must be > 0
	RotateAt   int64     // exec.log rotation size, e.g. 40 MiB so 200 MiB fits the 5-file chain; 0 means DefaultRotateAt
	Seed       int64     // the same seed (and options) gives the same bytes
	Start      time.Time // first timestamp; zero means 2026-05-01T10:00:00Z
	// Sessions, when > 0, writes that many exec sessions, ids 1..Sessions,
	// of at least TotalBytes/(Sessions+Interleave) each (less the big
	// chunks), Interleave of them live at once
	// (each chunk goes to one of the live sessions at random); 0 keeps the
	// default: a few sessions one after another.
	Sessions   int
	Interleave int // sessions live at once when Sessions > 0; 0 means 1
}

// CorpusReport says what GenerateCorpus wrote.
type CorpusReport struct {
	ExecBytes    int64     // bytes written to exec files, including any rotated out of the chain
	Chunks       int64     // well-formed exec.log lines
	Malformed    int64     // malformed exec.log lines (truncated JSON, unknown s, bad t, not JSON)
	Binary       int64     // chunks written as base64 ("e":"b64")
	BigChunks    int       // chunks of at least 1 MiB
	Rotations    int       // rotations of the exec chain
	Dropped      bool      // whether a rotation pushed data out of the chain
	RuntimeLines int64     // lines of runtime.log (continuations included)
	KernelLines  int64     // lines of kernel.log
	Sessions     uint64    // session ids used: 1..Sessions
	End          time.Time // the last timestamp written
}

// DefaultCorpusStart is the first timestamp of a corpus whose Start is zero.
var DefaultCorpusStart = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// The mix of exec chunks, in parts per 10000.
const (
	mixMalformed = 10  // 0.1 %
	mixSystem    = 100 // 1 %
	mixOutput    = 500 // 5 %
	mixStderr    = 1000
	mixBinary    = 20
	runtimeEvery = 300 // about one runtime.log line per this many chunks
	kernelEvery  = 800 // about one kernel.log line per this many chunks
	bigEvery     = 50 << 20
	sessionCount = 4
	markerBytes  = 256                    // about a session's start and exit markers
	bootOffset   = 350 * time.Millisecond // kernel uptime at Start
)

// GenerateCorpus writes a realistic sandbox <home>/sandboxes/<name> with
// about opts.TotalBytes of exec.log data across the rotation chain, plus
// runtime.log and kernel.log. Any logs the sandbox had are replaced. See
// GenerateCorpusReport.
func GenerateCorpus(home, name string, opts CorpusOptions) error {
	_, err := GenerateCorpusReport(home, name, opts)
	return err
}

// GenerateCorpusReport is GenerateCorpus, also returning what it wrote.
//
// The exec mix is mostly small stdout chunks (full lines, partial lines,
// several lines), about 10 % stderr, 5 % PTY output with ANSI escapes, 1 %
// system lifecycle markers (no id), some non-ASCII text, 0.2 % binary chunks
// (base64), 0.1 % malformed lines, and one 1 MiB chunk per 50 MiB (at least
// two). A few sessions with increasing ids follow one another. Timestamps
// start at opts.Start and grow by a few µs to a few ms per chunk.
//
// Rotation is the rename chain at RotateAt, exactly as Sandbox.Rotate. When
// TotalBytes fits in the five files (TotalBytes <= 5*RotateAt) generation
// stops early rather than rotate data out of the chain, so the chain holds
// everything written (slightly less than TotalBytes when lines do not fill
// the files exactly); otherwise the oldest data is dropped as microsandbox
// drops it.
func GenerateCorpusReport(home, name string, opts CorpusOptions) (CorpusReport, error) {
	if opts.TotalBytes <= 0 {
		return CorpusReport{}, fmt.Errorf("msbwriter: corpus TotalBytes must be > 0, got %d", opts.TotalBytes)
	}
	if opts.Sessions < 0 || opts.Interleave < 0 {
		return CorpusReport{}, fmt.Errorf("msbwriter: corpus Sessions (%d) and Interleave (%d) must be >= 0", opts.Sessions, opts.Interleave)
	}
	g, err := newCorpus(home, name, opts)
	if err != nil {
		return CorpusReport{}, err
	}
	err = g.run()
	if cerr := g.close(); err == nil {
		err = cerr
	}
	g.rep.Rotations = g.exec.rotations
	g.rep.Dropped = g.exec.rotations >= ChainLen
	g.rep.RuntimeLines, g.rep.KernelLines = g.rt.lines, g.kern.lines
	g.rep.End = g.now
	return g.rep, err
}

// corpus is the state of one GenerateCorpus run.
type corpus struct {
	c           content
	total       int64
	now         time.Time
	start       time.Time
	exec        *chainWriter
	rt, kern    *textWriter
	line, data  []byte
	bigAt       []int64 // exec byte offsets at which big chunks go
	nextSession int64   // exec byte offset of the next session switch
	rep         CorpusReport
	cur         uint64 // the id of the chunks written now

	// With CorpusOptions.Sessions: the sessions to write, how many live
	// at once, each one's share of the bytes, and the live ones.
	sessions, interleave int
	share                int64
	live                 []liveSession
}

// liveSession is a session of an interleaved corpus and the exec bytes
// written for it so far.
type liveSession struct {
	id    uint64
	bytes int64
}

func newCorpus(home, name string, opts CorpusOptions) (*corpus, error) {
	rotateAt := opts.RotateAt
	if rotateAt <= 0 {
		rotateAt = DefaultRotateAt
	}
	start := opts.Start
	if start.IsZero() {
		start = DefaultCorpusStart
	}
	dir := LogsDir(home, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("msbwriter: create logs dir: %w", err)
	}
	seed := uint64(opts.Seed)
	g := &corpus{
		c:     content{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))},
		total: opts.TotalBytes, now: start.UTC(), start: start.UTC(),
	}
	nbig := max(2, opts.TotalBytes/bigEvery)
	for k := int64(0); k < nbig; k++ {
		g.bigAt = append(g.bigAt, (2*k+1)*opts.TotalBytes/(2*nbig))
	}
	g.nextSession = opts.TotalBytes / sessionCount
	if opts.Sessions > 0 {
		g.sessions, g.interleave = opts.Sessions, max(1, min(opts.Interleave, opts.Sessions))
		// The big chunks (1 MiB and their escapes) and the start and exit
		// markers are no session's share; the last sessions run to the
		// end, so every session starts before it.
		rest := opts.TotalBytes - int64(len(g.bigAt))*(5<<20/4) - int64(opts.Sessions)*markerBytes
		g.share = max(1, rest/int64(opts.Sessions+g.interleave))
	}
	var err error
	keepAll := opts.TotalBytes <= ChainLen*rotateAt
	if g.exec, err = newChainWriter(dir, rotateAt, keepAll); err != nil {
		return nil, err
	}
	if g.rt, err = newTextWriter(filepath.Join(dir, RuntimeLog)); err != nil {
		return nil, errors.Join(err, g.exec.closeFile())
	}
	if g.kern, err = newTextWriter(filepath.Join(dir, KernelLog)); err != nil {
		return nil, errors.Join(err, g.exec.closeFile(), g.rt.close())
	}
	return g, nil
}

func (g *corpus) close() error {
	return errors.Join(g.exec.closeFile(), g.rt.close(), g.kern.close())
}

// run writes the whole corpus.
func (g *corpus) run() error {
	err := g.boot()
	for err == nil && g.rep.ExecBytes < g.total {
		err = g.step()
	}
	if errors.Is(err, errChainFull) {
		return nil
	}
	return err
}

// boot writes the first lines: kernel boot messages, runtime start-up and
// the start of session 1.
func (g *corpus) boot() error {
	for _, m := range []string{"Linux version 6.6.0-microsandbox", "Command line: console=hvc0 quiet", "virtio_blk virtio0: [vda] 4194304 512-byte logical blocks"} {
		if err := g.kernelLine(m); err != nil {
			return err
		}
	}
	if err := g.runtimeLine("INFO runtime: sandbox booted, starting exec relay"); err != nil {
		return err
	}
	for range max(1, g.interleave) {
		if err := g.startSession(); err != nil {
			return err
		}
	}
	return nil
}

// step writes one exec chunk (and maybe a text-log line), advancing time.
func (g *corpus) step() error {
	g.tick()
	var err error
	switch {
	case len(g.bigAt) > 0 && g.rep.ExecBytes >= g.bigAt[0]:
		err = g.bigChunk()
	case g.sessions > 0:
		err = g.interleaved()
	case g.rep.ExecBytes >= g.nextSession && g.rep.Sessions < sessionCount:
		err = g.switchSession()
	default:
		err = g.mixedChunk()
	}
	if err != nil {
		return err
	}
	return g.maybeText()
}

// tick advances the clock by 2 µs to about half a millisecond, and now and
// then by up to 5 ms more.
func (g *corpus) tick() {
	d := 2*time.Microsecond + time.Duration(g.c.rng.Int64N(int64(500*time.Microsecond)))
	if g.c.rng.IntN(10) == 0 {
		d += time.Duration(g.c.rng.Int64N(int64(5 * time.Millisecond)))
	}
	g.now = g.now.Add(d)
}

// mixedChunk writes one chunk of the ordinary mix.
func (g *corpus) mixedChunk() error {
	r := g.c.rng.IntN(10000)
	src := SourceStdout
	switch {
	case r < mixMalformed:
		return g.malformed()
	case r < mixMalformed+mixSystem:
		g.data = append(g.data[:0], g.c.pick(systemMarkers)...)
		return g.chunk(SourceSystem)
	case r < mixMalformed+mixSystem+mixOutput:
		g.data = g.c.pty(g.data[:0])
		src = SourceOutput
	case r < mixMalformed+mixSystem+mixOutput+mixStderr:
		g.data = g.c.stderr(g.data[:0])
		src = SourceStderr
	case r < mixMalformed+mixSystem+mixOutput+mixStderr+mixBinary:
		g.data = g.c.binary(g.data[:0])
		g.rep.Binary++
	default:
		g.data = g.c.stdout(g.data[:0])
	}
	return g.chunk(src)
}

// chunk writes g.data as one well-formed line of source src.
func (g *corpus) chunk(src string) error {
	g.line = AppendLine(g.line[:0], Chunk{Time: g.now, Source: src, Data: g.data, ID: g.cur, HasID: true})
	if err := g.execLine(g.line); err != nil {
		return err
	}
	g.rep.Chunks++
	return nil
}

// execLine writes one line to the chain and counts its bytes.
func (g *corpus) execLine(line []byte) error {
	if err := g.exec.write(line); err != nil {
		return err
	}
	g.rep.ExecBytes += int64(len(line))
	return nil
}

func (g *corpus) bigChunk() error {
	g.data = g.c.big(g.data[:0], g.rep.BigChunks)
	if err := g.chunk(SourceStdout); err != nil {
		return err
	}
	g.bigAt = g.bigAt[1:]
	g.rep.BigChunks++
	return nil
}

// startSession begins the next session with a system marker.
func (g *corpus) startSession() error {
	g.rep.Sessions++
	g.cur = g.rep.Sessions
	if g.sessions > 0 {
		g.live = append(g.live, liveSession{id: g.cur})
	}
	g.data = append(g.data[:0], "exec session "...)
	g.data = strconv.AppendUint(g.data, g.rep.Sessions, 10)
	g.data = append(g.data, " started: /bin/sh -c ./run.sh"...)
	return g.chunk(SourceSystem)
}

// switchSession ends the current session and starts the next one.
func (g *corpus) switchSession() error {
	g.data = append(g.data[:0], "exec session "...)
	g.data = strconv.AppendUint(g.data, g.rep.Sessions, 10)
	g.data = append(g.data, " exited with code 0"...)
	if err := g.chunk(SourceSystem); err != nil {
		return err
	}
	g.nextSession += g.total / sessionCount
	g.tick()
	return g.startSession()
}

// interleaved writes one chunk of a live session picked at random, or ends
// it once it has its share of the bytes and starts the next session, while
// there is one to start.
func (g *corpus) interleaved() error {
	i := g.c.rng.IntN(len(g.live))
	g.cur = g.live[i].id
	if g.live[i].bytes >= g.share && g.rep.Sessions < uint64(g.sessions) {
		g.data = append(g.data[:0], "exec session "...)
		g.data = strconv.AppendUint(g.data, g.cur, 10)
		g.data = append(g.data, " exited with code 0"...)
		if err := g.chunk(SourceSystem); err != nil {
			return err
		}
		g.live = append(g.live[:i], g.live[i+1:]...)
		g.tick()
		return g.startSession()
	}
	before := g.rep.ExecBytes
	err := g.mixedChunk()
	g.live[i].bytes += g.rep.ExecBytes - before
	return err
}

// malformed writes one line a reader must skip: truncated JSON, an unknown
// "s", a bad "t", or text that is not JSON at all.
func (g *corpus) malformed() error {
	g.data = g.c.stdout(g.data[:0])
	switch g.c.rng.IntN(4) {
	case 0:
		g.line = AppendLine(g.line[:0], Chunk{Time: g.now, Source: SourceStdout, Data: g.data})
		g.line = append(g.line[:1+g.c.rng.IntN(len(g.line)-3)], '\n')
	case 1:
		g.line = AppendLine(g.line[:0], Chunk{Time: g.now, Source: "stdin", Data: g.data, ID: g.cur, HasID: true})
	case 2:
		g.line = append(g.line[:0], `{"t":"2026-13-45T25:61:00Z","s":"stdout","d":"bad time","id":`...)
		g.line = strconv.AppendUint(g.line, g.cur, 10)
		g.line = append(g.line, "}\n"...)
	default:
		g.line = append(g.line[:0], "thread 'main' panicked at src/relay.rs:88:5 (not JSON)\n"...)
	}
	if err := g.execLine(g.line); err != nil {
		return err
	}
	g.rep.Malformed++
	return nil
}

// maybeText writes, now and then, a runtime.log or kernel.log line.
func (g *corpus) maybeText() error {
	if g.c.rng.IntN(runtimeEvery) == 0 {
		if err := g.runtimeLine(g.c.pick(runtimeMessages)); err != nil {
			return err
		}
	}
	if g.c.rng.IntN(kernelEvery) == 0 {
		return g.kernelLine(g.c.pick(kernelMessages))
	}
	return nil
}

// runtimeLine writes "<RFC 3339 µs> msg", sometimes followed by
// continuation lines that have no timestamp.
func (g *corpus) runtimeLine(msg string) error {
	g.line = g.now.AppendFormat(g.line[:0], TimeFormat)
	g.line = append(g.line, ' ')
	g.line = append(append(g.line, msg...), '\n')
	if g.c.rng.IntN(10) == 0 {
		for n := 1 + g.c.rng.IntN(3); n > 0; n-- {
			if err := g.rt.writeLine(g.line); err != nil {
				return err
			}
			g.line = append(append(g.line[:0], g.c.pick(runtimeContinuations)...), '\n')
		}
	}
	return g.rt.writeLine(g.line)
}

// kernelLine writes "<time> [ uptime] msg": the host's RFC 3339 time of the
// line, then the guest's uptime counted from its boot shortly before Start.
// A real kernel.log has only the uptime stamp, which a reader dates by the
// file's birth time; a generator cannot set a birth time in the past, so
// the leading time (SPEC §1 rule 1) keeps kernel lines on the corpus's own
// timeline, from Start on, instead of dating them at generation time.
func (g *corpus) kernelLine(msg string) error {
	up := g.now.Sub(g.start) + bootOffset
	g.line = g.now.AppendFormat(g.line[:0], TimeFormat)
	g.line = append(g.line, " ["...)
	sec := strconv.FormatInt(int64(up/time.Second), 10)
	for i := len(sec); i < 5; i++ {
		g.line = append(g.line, ' ')
	}
	g.line = append(g.line, sec...)
	g.line = append(g.line, '.')
	us := strconv.FormatInt(int64(up%time.Second/time.Microsecond)+1000000, 10)
	g.line = append(g.line, us[1:]...)
	g.line = append(g.line, "] "...)
	g.line = append(append(g.line, msg...), '\n')
	return g.kern.writeLine(g.line)
}
