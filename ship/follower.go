package ship

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/ship/checkpoint"
)

// errBatchFull stops a scanner's pass once the batch is full.
var errBatchFull = errors.New("batch full")

// errGone ends the follower of a sandbox that was removed.
var errGone = errors.New("sandbox removed")

// follower ships one sandbox: where it stands, and what it last shipped.
type follower struct {
	name     string
	ready    bool            // st holds where to resume
	st       engine.State    // the state after the last acknowledged record
	dir      string          // the sandbox's logs directory
	id       engine.DirID    // its identity, which st belongs to
	fp       execFingerprint // of the exec file st is in
	fpCache  execFingerprint // the last one taken, for the reading goroutine
	lastTime engine.Time     // time of the last acknowledged record
	// For the summary, read by another goroutine:
	behind      atomic.Bool  // the last pass stopped with more to read
	shippedUpTo atomic.Int64 // lastTime in Unix nanoseconds
	saving      chan error   // the checkpoint write in flight, if any
	lossFrom    *engine.Time // a loss was found: the time shipping stopped at, until the next exec record is read
	failure     string       // the error the last pass failed with, "" once one succeeded
}

// awaitSave waits for the checkpoint write in flight, if any.
func (f *follower) awaitSave() error {
	if f.saving == nil {
		return nil
	}
	err := <-f.saving
	f.saving = nil
	return err
}

// sameDir reports whether checkpoint cp was written for the logs
// directory of identity id. A checkpoint without a birth time (written
// before it was kept, or on a filesystem that keeps none) is told by the
// inode number alone.
func sameDir(cp *checkpoint.Checkpoint, id engine.DirID) bool {
	return cp.LogsIno == id.Ino && (cp.LogsBirth == 0 || cp.LogsBirth == id.Birth)
}

// resolve sets f's state from its checkpoint: none, or one of an earlier
// sandbox of that name, starts at the beginning; one whose exec.log file
// rotation dropped resumes at the oldest file (a loss, reported); a state
// file that is corrupt, foreign or holds a cursor that is not this
// sandbox's is an error, and the sandbox is not shipped.
func (s *Shipper) resolve(f *follower, sb *engine.Sandbox) error {
	id := sb.DirID()
	if id == (engine.DirID{}) {
		return errGone
	}
	f.dir, f.id, f.st, f.lastTime = sb.LogsDir(), id, engine.State{}, engine.Time{}
	f.fp, f.fpCache = execFingerprint{}, execFingerprint{}
	cp, err := s.cfg.Store.Load(f.name)
	if err != nil {
		return fmt.Errorf("%w (move it away to ship the sandbox from its start)", err)
	}
	if cp == nil {
		f.ready = true
		return nil
	}
	if !sameDir(cp, id) {
		s.log.Info("sandbox made again since its checkpoint: shipping the new one from its start", "sandbox", f.name, "checkpoint", s.cfg.Store.Path(f.name))
		f.ready = true
		return nil
	}
	c, err := engine.ParseCursor(cp.Cursor)
	if err != nil {
		return fmt.Errorf("%w: %s: %v (move it away to ship the sandbox from its start)", checkpoint.ErrCorrupt, s.cfg.Store.Path(f.name), err)
	}
	if t, ok := engine.ParseTime(cp.LastTime); ok {
		f.lastTime = t
	}
	exec := c[engine.OriginExec]
	f.fp = execFingerprint{Gen: exec.Gen, Birth: cp.ExecBirth, Len: cp.ExecHeadLen, Hash: cp.ExecHead}
	if cp.ExecHeadLen < 0 || cp.ExecHeadLen > headLen || (cp.ExecHeadLen == 0) != (cp.ExecHead == "") {
		return fmt.Errorf("%w: %s: exec_head_len %d out of range, or exec_head %q without it", checkpoint.ErrCorrupt, s.cfg.Store.Path(f.name), cp.ExecHeadLen, cp.ExecHead)
	}
	if !exec.IsStart() && !f.fp.matches(f.dir) {
		s.noteLoss(f, "restart")
		c[engine.OriginExec], f.fp = engine.Pos{}, execFingerprint{}
	}
	st, err := sb.StateAt(c)
	if err != nil {
		return fmt.Errorf("%w: %s: %v (move it away to ship the sandbox from its start)", checkpoint.ErrCorrupt, s.cfg.Store.Path(f.name), err)
	}
	f.st, f.ready = st, true
	return nil
}

// noteLoss records that rotation dropped the file f's position was in
// before it was shipped; the log line, with how much the gap spans, is
// written when the first exec record after it is read.
func (s *Shipper) noteLoss(f *follower, when string) {
	s.Stats.Losses.Add(1)
	from := f.lastTime
	f.lossFrom = &from
	s.log.Debug("position rotated away", "sandbox", f.name, "when", when)
}

// reportLoss writes the loss line once the first record after the gap,
// at time to, is known (to is zero when the pass found none).
func (s *Shipper) reportLoss(f *follower, to engine.Time) {
	from := *f.lossFrom
	f.lossFrom = nil
	attrs := []any{"sandbox", f.name}
	if !from.IsZero() {
		attrs = append(attrs, "last_shipped", from.String())
	}
	if !to.IsZero() {
		attrs = append(attrs, "resumed_at", to.String())
		if !from.IsZero() && from.Less(to) {
			gap := time.Duration(to.Sec-from.Sec)*time.Second + time.Duration(int64(to.Nsec)-int64(from.Nsec))
			attrs = append(attrs, "gap", gap.Round(time.Millisecond).String())
		}
	}
	s.log.Error("LOST exec.log records: rotation dropped the file holding the checkpoint before they were shipped; the records written between last_shipped and resumed_at are lost", attrs...)
}

// position returns f's sandbox with f's state set to where shipping
// resumes: from the checkpoint the first time (or after the sandbox was
// made again), else from the last pass's end, unless rotation dropped its
// file since.
func (s *Shipper) position(f *follower) (*engine.Sandbox, error) {
	sb, err := s.cfg.Home.Sandbox(f.name)
	if errors.Is(err, engine.ErrNoSandbox) {
		return nil, errGone
	}
	if err != nil {
		return nil, err
	}
	if sb.DirID() != f.id {
		f.ready = false // made again (Home.Sandbox gives the new one)
	}
	switch {
	case !f.ready:
		if _, err := os.Lstat(sb.LogsDir()); err != nil {
			return nil, errGone
		}
		err = s.resolve(f, sb)
	case !f.fp.matches(f.dir):
		err = s.lostExec(f, sb, "follow")
	}
	return sb, err
}

// pass ships f's sandbox from its state: batch after batch until the end
// of what exists, or until maxBatches were sent (more is then true, so
// that other sandboxes get their turn). ctx stops the reading; stop, which
// ends later, the sending of the batch in flight.
func (s *Shipper) pass(ctx, stop context.Context, f *follower, slot *readerSlot) (more bool, err error) {
	defer func() {
		if serr := f.awaitSave(); err == nil {
			err = serr
		}
	}()
	sb, err := s.position(f)
	if err != nil {
		return false, err
	}
	sc := sb.NewScanner(engine.Query{Mask: s.cfg.Mask, From: f.st})
	defer func() { sc.Close() }()
	// One batch is sent (by a goroutine of its own) while the next is
	// read: the slot's two batches, used in turn.
	var sending chan error
	wait := func() error {
		if sending == nil {
			return nil
		}
		err := <-sending
		sending = nil
		return err
	}
	defer func() {
		if werr := wait(); err == nil {
			err = werr
		}
	}()
	batches := [2]*Batch{&slot.batches[0], &slot.batches[1]}
	for i := range s.cfg.MaxBatchesPerPass {
		if ctx.Err() != nil {
			return false, nil
		}
		cur := batches[i%2]
		full, err := s.readBatch(sc, f, cur)
		switch {
		case errors.Is(err, engine.ErrMissedRotation):
			if err := wait(); err != nil {
				return false, err
			}
			if err := s.lostExec(f, sb, "follow"); err != nil {
				return false, err
			}
			sc.Close()
			sc = sb.NewScanner(engine.Query{Mask: s.cfg.Mask, From: f.st})
			continue
		case errors.Is(err, engine.ErrRemoved):
			return false, errGone
		case err != nil:
			return false, err
		}
		if cur.Len() == 0 {
			if f.lossFrom != nil {
				s.reportLoss(f, engine.Time{})
			}
			return false, nil
		}
		st := sc.State()
		fp := s.fingerprint(f, st.Cursor[engine.OriginExec])
		if err := wait(); err != nil {
			return false, err
		}
		sending = make(chan error, 1)
		go func() { sending <- s.ship(stop, f, cur, st, fp) }()
		if !full {
			return false, nil
		}
	}
	return true, nil
}

// readBatch fills b from sc's position: full when it closed at its bounds
// (more may follow), else at the end of what exists.
func (s *Shipper) readBatch(sc *engine.Scanner, f *follower, b *Batch) (full bool, err error) {
	b.reset(f.name)
	err = sc.Next(func(e *engine.Entry, after *engine.State) error {
		if f.lossFrom != nil && e.Origin == engine.OriginExec {
			s.reportLoss(f, e.Time)
		}
		b.add(e, after)
		if b.Len() >= s.cfg.BatchRecords || b.Bytes() >= s.cfg.BatchBytes {
			return errBatchFull
		}
		return nil
	})
	if errors.Is(err, errBatchFull) {
		return true, nil
	}
	return false, err
}

// fingerprint returns the fingerprint of exec position p, taken while
// the pass's scanner holds its file (so its inode is not reused yet). A
// file rotation already dropped from the chain gets one that matches
// nothing: resuming from it is a loss, never a read of another file.
func (s *Shipper) fingerprint(f *follower, p engine.Pos) execFingerprint {
	if p.IsStart() {
		return execFingerprint{}
	}
	if f.fpCache.Gen == p.Gen && f.fpCache.Len == headLen {
		return f.fpCache
	}
	fp, err := fingerprintOf(f.dir, p)
	if err != nil {
		return execFingerprint{Gen: p.Gen, Len: headLen, Hash: "gone"}
	}
	f.fpCache = fp
	return fp
}

// lostExec moves f to the start of the exec chain after rotation dropped
// the file it stood in, keeping its place in the text logs.
func (s *Shipper) lostExec(f *follower, sb *engine.Sandbox, when string) error {
	s.noteLoss(f, when)
	c := f.st.Cursor
	c[engine.OriginExec] = engine.Pos{}
	st, err := sb.StateAt(c)
	if err != nil {
		return fmt.Errorf("sandbox %s: %w", f.name, err)
	}
	f.st, f.fp, f.fpCache = st, execFingerprint{}, execFingerprint{}
	return nil
}

// ship delivers b, then moves f's checkpoint to st, whose exec file has
// fingerprint fp. It runs while the pass reads the next batch: it alone
// sets f's st, lastTime, fp and saving until the pass waits for it.
func (s *Shipper) ship(stop context.Context, f *follower, b *Batch, st engine.State, fp execFingerprint) error {
	b.seal()
	out, err := deliver(stop, s.cfg.Sender, b, s.cfg.Backoff, s.log, &s.Stats)
	if err != nil {
		return err // stopped before an acknowledgement: the checkpoint stays
	}
	s.Stats.Rejected.Add(int64(out.rejected))
	for _, sk := range out.skips {
		s.log.Error("receiver rejected records: skipped", "sandbox", f.name, "records", sk.records, "of", sk.batch, "first_cursor", sk.firstCursor, "reason", sk.reason)
	}
	last := b.Records[len(b.Records)-1].Time
	cp := &checkpoint.Checkpoint{Sandbox: f.name, LogsIno: f.id.Ino, LogsBirth: f.id.Birth, Cursor: st.Cursor.String(),
		ExecBirth: fp.Birth, ExecHead: fp.Hash, ExecHeadLen: fp.Len, LastTime: last.String(), Saved: time.Now().UTC()}
	// The checkpoint is written while the next batch is read and sent;
	// one write at a time, and the pass waits for the last.
	if err := f.awaitSave(); err != nil {
		return err
	}
	saved := make(chan error, 1)
	go func() { saved <- s.cfg.Store.Save(cp) }()
	f.saving = saved
	f.st, f.lastTime, f.fp = st, last, fp
	f.shippedUpTo.Store(last.Sec*1e9 + int64(last.Nsec))
	s.Stats.Batches.Add(1)
	s.Stats.Records.Add(int64(len(b.Records) - out.rejected))
	s.Stats.Bytes.Add(int64(len(b.buf)))
	return nil
}
