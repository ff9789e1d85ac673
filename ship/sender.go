package ship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Sender delivers batches to a receiver. Send returns nil once the
// receiver acknowledged every record of b; a *RejectedError when it
// refused the batch for good (it is skipped); a *TooLargeError when it
// refused it as too large (it is sent again in halves); a *PartialError when it
// took only part of it (the rest is skipped); any other error is
// temporary and the batch is sent again. Send must not keep b or its records after it returns.
type Sender interface {
	Send(ctx context.Context, b *Batch) error
	Close() error
}

// RejectedError is a batch the receiver will never take (an HTTP 400):
// retrying it cannot help.
type RejectedError struct {
	Records int
	Reason  string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("receiver rejected %d records: %s", e.Records, e.Reason)
}

// TooLargeError is a request the receiver refused as too large (an HTTP
// 413): its halves may be taken.
type TooLargeError struct {
	Records int
	Reason  string
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("receiver refused %d records as too large: %s", e.Records, e.Reason)
}

// PartialError is a batch of which the receiver took some records and
// rejected the others for good: an answer, which is not retried (the
// OTLP specification forbids it).
type PartialError struct {
	Rejected int
	Reason   string
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("receiver rejected %d records of the batch: %s", e.Rejected, e.Reason)
}

// RetryError is a temporary failure with the receiver's own delay
// (Retry-After).
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// Backoff is the delay between tries: exponential from Min to Max, with
// full jitter.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff retries after 0.5-1 s at first, and at most every 30 s.
var DefaultBackoff = Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second}

// maxRetryAfter bounds a receiver's Retry-After.
const maxRetryAfter = 5 * time.Minute

// delay returns the wait before try n (0 is the first retry): a random
// point in [d/2, d] for d = Min·2ⁿ capped at Max.
func (b Backoff) delay(n int) time.Duration {
	d := b.Min
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d/2 + rand.N(d/2+1)
}

// outcome is what became of a batch the receiver answered for good:
// every record acknowledged, or some refused (skipped) as skips say.
type outcome struct {
	rejected int
	skips    []skip
}

// skip is records the receiver refused for good, and why.
type skip struct {
	records     int
	batch       int    // records of the request they were refused from
	firstCursor string // of the request
	reason      string
}

// refused returns the outcome of a batch of which the receiver refused n
// records (a count it gave, bounded by the batch's).
func refused(b *Batch, n int, reason string) outcome {
	n = min(max(n, 0), len(b.Records))
	if n == 0 {
		return outcome{}
	}
	return outcome{rejected: n, skips: []skip{{records: n, batch: len(b.Records), firstCursor: b.Records[0].Cursor, reason: reason}}}
}

// deliver sends b until it is acknowledged or rejected, waiting between
// tries; it gives up only when ctx is done (the batch is then neither).
func deliver(ctx context.Context, s Sender, b *Batch, bo Backoff, log *slog.Logger, st *Stats) (outcome, error) {
	for try := 0; ; try++ {
		err := s.Send(ctx, b)
		var rej *RejectedError
		var big *TooLargeError
		var part *PartialError
		var retry *RetryError
		wait := bo.delay(try)
		switch {
		case err == nil:
			return outcome{}, nil
		case errors.As(err, &rej):
			return refused(b, len(b.Records), rej.Reason), nil
		case errors.As(err, &big):
			return deliverHalves(ctx, s, b, big.Reason, bo, log, st)
		case errors.As(err, &part):
			return refused(b, part.Rejected, "partial success: "+part.Reason), nil
		case errors.As(err, &retry) && retry.After > 0:
			wait = min(max(wait, retry.After), maxRetryAfter)
		}
		if ctx.Err() != nil {
			return outcome{}, ctx.Err()
		}
		st.Retries.Add(1)
		log.Warn("send failed, retrying", "sandbox", b.Sandbox, "records", len(b.Records), "try", try+1, "retry_in", wait.Round(time.Millisecond), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return outcome{}, ctx.Err()
		case <-t.C:
		}
	}
}

// deliverHalves delivers b, which the receiver refused as too large, as
// its two halves in turn (split again as long as they are refused); a
// single record still refused is skipped.
func deliverHalves(ctx context.Context, s Sender, b *Batch, reason string, bo Backoff, log *slog.Logger, st *Stats) (outcome, error) {
	if len(b.Records) <= 1 {
		return refused(b, len(b.Records), "too large: "+reason), nil
	}
	log.Debug("request too large: sending it in halves", "sandbox", b.Sandbox, "records", len(b.Records))
	mid := len(b.Records) / 2
	var out outcome
	for _, half := range []*Batch{b.part(0, mid), b.part(mid, len(b.Records))} {
		o, err := deliver(ctx, s, half, bo, log, st)
		if err != nil {
			return outcome{}, err
		}
		out.rejected += o.rejected
		out.skips = append(out.skips, o.skips...)
	}
	return out, nil
}
