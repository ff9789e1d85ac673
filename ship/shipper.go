package ship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/ship/checkpoint"
)

// Config is what a Shipper ships, where, and within which bounds.
type Config struct {
	Home   *engine.Home
	Store  *checkpoint.Store
	Sender Sender
	Mask   engine.SourceMask
	// Sandboxes limits the run to these sandboxes; empty ships every
	// sandbox, including those made while following.
	Sandboxes []string
	// Once ships what exists and returns; else Run follows until ctx ends.
	Once bool
	// BatchRecords and BatchBytes close a batch (an entry is never split:
	// one entry up to engine.MaxLineLen may exceed BatchBytes).
	BatchRecords, BatchBytes int
	// Readers bounds the sandboxes read and sent at once: memory is about
	// Readers × 2 batches, descriptors Readers sandboxes' files.
	Readers int
	// MaxBatchesPerPass is how many batches a sandbox sends before the
	// others get their turn.
	MaxBatchesPerPass int
	// StopTimeout is how long the batch in flight may take to be
	// acknowledged once ctx ends.
	StopTimeout time.Duration
	Backoff     Backoff
	// SummaryEvery is the period of the summary line while following.
	SummaryEvery time.Duration
	Log          *slog.Logger
}

// Defaults for the zero fields of a Config.
const (
	DefaultBatchRecords = 4096
	DefaultBatchBytes   = 2 << 20
	DefaultReaders      = 4
	DefaultStopTimeout  = 10 * time.Second
	defaultPassBatches  = 16
)

// Shipper runs one shipping: one follower per sandbox, at most Readers
// of them reading at once.
type Shipper struct {
	cfg   Config
	log   *slog.Logger
	Stats Stats

	slots chan *readerSlot // a follower reads and sends while it holds one

	mu        sync.Mutex
	followers map[string]*follower // running followers, by sandbox
}

// New returns a shipper for cfg, with defaults for its zero fields.
func New(cfg Config) *Shipper {
	if cfg.BatchRecords <= 0 {
		cfg.BatchRecords = DefaultBatchRecords
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = DefaultBatchBytes
	}
	if cfg.Readers <= 0 {
		cfg.Readers = DefaultReaders
	}
	if cfg.MaxBatchesPerPass <= 0 {
		cfg.MaxBatchesPerPass = defaultPassBatches
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	if cfg.Backoff == (Backoff{}) {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.SummaryEvery <= 0 {
		cfg.SummaryEvery = time.Minute
	}
	if cfg.Mask == 0 {
		cfg.Mask = engine.MaskAll
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Shipper{cfg: cfg, log: log, slots: make(chan *readerSlot, cfg.Readers), followers: map[string]*follower{}}
	for range cfg.Readers {
		s.slots <- new(readerSlot)
	}
	return s
}

// readerSlot is one of the Readers slots a sandbox is read and sent in,
// with the two batches its pass uses in turn (one sent while the other
// is filled). The batches belong to the slot, not to a sandbox: memory
// is bounded by the slots, whatever the number of sandboxes.
type readerSlot struct {
	batches [2]Batch
}

// release drops a batch buffer that an entry longer than a batch grew
// past twice maxBytes, so that a slot keeps at most that between passes.
func (sl *readerSlot) release(maxBytes int) {
	for i := range sl.batches {
		sl.batches[i].release(maxBytes)
	}
}

// Run ships until ctx ends (or, with Once, until what exists is shipped).
// Once ctx ends, the batches in flight get StopTimeout to be acknowledged
// and checkpointed. It returns an error only when nothing could be
// shipped; a sandbox that fails is logged and counted in Stats.Failed.
func (s *Shipper) Run(ctx context.Context) error {
	stop, cancelStop := stopContext(ctx, s.cfg.StopTimeout)
	defer cancelStop()
	if s.cfg.Once {
		return s.once(ctx, stop)
	}
	return s.follow(ctx, stop)
}

// stopContext returns a context that ends d after ctx ends.
func stopContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	stop, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-stop.Done():
		case <-ctx.Done():
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				cancel()
			case <-stop.Done():
			}
		}
	}()
	return stop, cancel
}

// names returns the sandboxes to ship now.
func (s *Shipper) names() ([]string, error) {
	all, err := s.cfg.Home.List()
	if err != nil || len(s.cfg.Sandboxes) == 0 {
		return all, err
	}
	return slices.DeleteFunc(slices.Clone(s.cfg.Sandboxes), func(n string) bool {
		_, found := slices.BinarySearch(all, n)
		return !found
	}), nil
}

// once ships every sandbox to its current end.
func (s *Shipper) once(ctx, stop context.Context) error {
	names, err := s.names()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, name := range names {
		f := s.start(name)
		if f == nil {
			continue
		}
		wg.Go(func() {
			defer s.done(name)
			s.drain(ctx, stop, f)
		})
	}
	wg.Wait()
	return nil
}

// follow ships every sandbox and waits for more, picking up new sandboxes,
// until ctx ends.
func (s *Shipper) follow(ctx, stop context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(s.cfg.SummaryEvery)
	defer tick.Stop()
	// The list is read again every second too: a logs/ directory made
	// inside a sandbox directory made just before is not always an event.
	relist := time.NewTicker(time.Second)
	defer relist.Stop()
	for {
		listed := s.cfg.Home.ListChanged()
		names, err := s.names()
		if err != nil {
			s.log.Error("list sandboxes", "err", err)
		}
		for _, name := range names {
			if f := s.start(name); f != nil {
				wg.Go(func() {
					defer s.done(name)
					s.followOne(ctx, stop, f)
				})
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-listed:
		case <-relist.C:
		case <-tick.C:
			s.summary()
		}
	}
}

// start registers a follower for name, or returns nil if one runs.
func (s *Shipper) start(name string) *follower {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.followers[name]; ok {
		return nil
	}
	f := &follower{name: name}
	s.followers[name] = f
	return f
}

// done unregisters name's follower.
func (s *Shipper) done(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.followers, name)
}

// drain runs passes of f until nothing is left to read; it reports
// whether the sandbox goes on (not removed, no error).
func (s *Shipper) drain(ctx, stop context.Context, f *follower) bool {
	for more := true; more; {
		var slot *readerSlot
		select {
		case slot = <-s.slots:
		case <-ctx.Done():
			return false
		}
		var err error
		f.behind.Store(true) // until the pass reaches the end
		more, err = s.passApart(ctx, stop, f, slot)
		f.behind.Store(more || err != nil)
		slot.release(s.cfg.BatchBytes)
		s.slots <- slot
		switch {
		case errors.Is(err, errGone):
			s.log.Info("sandbox removed: its follower ends", "sandbox", f.name)
			return false
		case ctx.Err() != nil:
			return false
		case err != nil:
			s.noteFailure(f, err)
			return false
		}
	}
	s.noteShipped(f)
	return true
}

// noteFailure logs that f's sandbox could not be shipped, once per
// distinct error while it keeps failing (a follower tries again at every
// change), and counts it once per failure: again only after it shipped.
func (s *Shipper) noteFailure(f *follower, err error) {
	msg := err.Error()
	switch f.failure {
	case msg:
		s.log.Debug("sandbox still not shipped", "sandbox", f.name, "err", err)
		return
	case "":
		s.Stats.Failed.Add(1)
	}
	f.failure = msg
	s.log.Error("sandbox not shipped", "sandbox", f.name, "err", err)
}

// noteShipped says that f's sandbox, which had failed, is shipped again.
func (s *Shipper) noteShipped(f *follower) {
	if f.failure != "" {
		f.failure = ""
		s.log.Info("sandbox shipped again", "sandbox", f.name)
	}
}

// passApart runs a pass in a goroutine of its own, whose stack is freed
// when it ends: the stack of an idle sandbox's follower then stays as
// small as its wait needs, not as deep as a pass went.
func (s *Shipper) passApart(ctx, stop context.Context, f *follower, slot *readerSlot) (more bool, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		more, err = s.pass(ctx, stop, f, slot)
	}()
	<-done
	return more, err
}

// followOne ships f's sandbox, then again after each change, until ctx
// ends or the sandbox is removed; a sandbox made again under its name is
// followed from its start. A failed sandbox is tried again at its next
// change.
func (s *Shipper) followOne(ctx, stop context.Context, f *follower) {
	for ctx.Err() == nil {
		sb, err := s.cfg.Home.Sandbox(f.name)
		if err != nil {
			s.log.Info("sandbox removed: its follower ends", "sandbox", f.name)
			return
		}
		if !s.watch(ctx, stop, f, sb) {
			return
		}
		f.ready = false
	}
}

// watch ships sb after each change until ctx ends or its logs directory
// goes; it reports whether one of the same name took its place.
func (s *Shipper) watch(ctx, stop context.Context, f *follower, sb *engine.Sandbox) (again bool) {
	// An idle scanner holds the sandbox, so that its changes are watched;
	// it holds no file.
	holder := sb.NewScanner(engine.Query{})
	defer holder.Close()
	id := sb.DirID()
	if id == (engine.DirID{}) {
		return false // gone before it was read
	}
	for {
		changed := sb.Changed()
		s.drain(ctx, stop, f)
		select {
		case <-ctx.Done():
			return false
		case <-changed:
		}
		now, ok := engine.IdentifyDir(sb.LogsDir())
		if !ok {
			s.log.Info("sandbox removed: its follower ends", "sandbox", f.name)
			return false
		}
		if now != id {
			s.log.Info("sandbox made again: following the new one", "sandbox", f.name)
			return true
		}
	}
}

// summary logs the counters and the sandboxes that are behind.
func (s *Shipper) summary() {
	type lag struct {
		name string
		age  time.Duration
	}
	var lags []lag
	now := time.Now()
	s.mu.Lock()
	for name, f := range s.followers {
		if f.behind.Load() {
			age := time.Duration(-1) // nothing shipped yet
			if ns := f.shippedUpTo.Load(); ns != 0 {
				age = now.Sub(time.Unix(0, ns))
			}
			lags = append(lags, lag{name, age})
		}
	}
	s.mu.Unlock()
	sort.Slice(lags, func(i, j int) bool { return lags[i].age > lags[j].age })
	attrs := s.counters()
	for i, l := range lags {
		if i == 10 {
			attrs = append(attrs, "behind_more", len(lags)-10)
			break
		}
		age := "none shipped yet"
		if l.age >= 0 {
			age = l.age.Round(time.Second).String()
		}
		attrs = append(attrs, "behind."+l.name, age)
	}
	s.log.Info("shipped", attrs...)
}

// counters returns the run's counters as log attributes.
func (s *Shipper) counters() []any {
	st := &s.Stats
	return []any{"records", st.Records.Load(), "bytes", st.Bytes.Load(), "batches", st.Batches.Load(),
		"rejected", st.Rejected.Load(), "retries", st.Retries.Load(), "losses", st.Losses.Load(), "failed", st.Failed.Load()}
}

// LogTotals logs the counters of the run, once it ends.
func (s *Shipper) LogTotals() { s.log.Info("ship done", s.counters()...) }

// Progress returns a one-line progress report for a terminal.
func (s *Shipper) Progress() string {
	s.mu.Lock()
	active := len(s.followers)
	s.mu.Unlock()
	return fmt.Sprintf("shipped %d records (%.1f MB), %d sandboxes in progress", s.Stats.Records.Load(), float64(s.Stats.Bytes.Load())/1e6, active)
}
