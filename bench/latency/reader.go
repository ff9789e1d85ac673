package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// reader reads the follow file line by line and records, for every
// "seq=<n> t=<nanos>" line, its latency and whether it came in order.
type reader struct {
	f      *os.File
	unique atomic.Int64 // distinct seqs seen (for progress)
	done   chan struct{}

	mu         sync.Mutex
	seen       []bool // by seq
	maxSeq     int64
	lines      int64
	other      int64
	duplicated int64
	outOfOrder int64
	latencies  []time.Duration
	writeTimes []int64 // unix nanos, parallel to latencies
	lastAt     time.Time
	err        error
	endedAt    time.Time
}

func newReader(f *os.File, expect int) *reader {
	return &reader{f: f, done: make(chan struct{}), seen: make([]bool, expect+1),
		latencies: make([]time.Duration, 0, expect), writeTimes: make([]int64, 0, expect)}
}

func (r *reader) run() {
	defer close(r.done)
	br := bufio.NewReaderSize(r.f, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			r.mu.Lock()
			r.other++
			r.mu.Unlock()
			for err == bufio.ErrBufferFull { // a line this long is not ours
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		if len(line) > 0 {
			r.line(line, time.Now())
		}
		if err != nil {
			r.mu.Lock()
			if !errors.Is(err, io.EOF) {
				r.err = err
			}
			r.endedAt = time.Now()
			r.mu.Unlock()
			return
		}
	}
}

// line handles one line read at now. The seq and t fields are found
// wherever they are, so that every view's rendering works: merged and system
// prefix "<TIME> <SOURCE> ", stdout and output show the data as it is.
func (r *reader) line(line []byte, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines++
	seq, t, ok := parseLine(line)
	if !ok {
		r.other++
		return
	}
	for int64(len(r.seen)) <= seq {
		r.seen = append(r.seen, false)
	}
	switch {
	case r.seen[seq]:
		r.duplicated++
		return
	case seq < r.maxSeq:
		r.outOfOrder++
	default:
		r.maxSeq = seq
	}
	r.seen[seq] = true
	r.unique.Add(1)
	r.latencies = append(r.latencies, now.Sub(time.Unix(0, t)))
	r.writeTimes = append(r.writeTimes, t)
	r.lastAt = now
}

func parseLine(line []byte) (seq, t int64, ok bool) {
	i := bytes.Index(line, []byte("seq="))
	if i < 0 {
		return 0, 0, false
	}
	rest := bytes.TrimRight(line[i+len("seq="):], "\n")
	s, tpart, found := bytes.Cut(rest, []byte(" t="))
	if !found {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseInt(string(s), 10, 64)
	t, err2 := strconv.ParseInt(string(tpart), 10, 64)
	if err1 != nil || err2 != nil || seq <= 0 || seq > 1<<32 {
		return 0, 0, false
	}
	return seq, t, true
}

func (r *reader) isDone() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func (r *reader) readErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

type result struct {
	seen, unique, other             int64
	missing, duplicated, outOfOrder int64
	firstMissing                    []int64
	latencies                       []time.Duration // sorted
	mean                            time.Duration
	lastAt                          time.Time         // when the last new line arrived
	series                          [][]time.Duration // sorted latencies by interval of write time
}

// result summarises what was read of the written lines 1..written, written
// from start on; every is the interval of the series (0: none).
func (r *reader) result(written int64, start time.Time, every time.Duration) result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := result{seen: r.lines - r.other, unique: r.unique.Load(), other: r.other,
		duplicated: r.duplicated, outOfOrder: r.outOfOrder}
	for seq := int64(1); seq <= written; seq++ {
		if seq >= int64(len(r.seen)) || !r.seen[seq] {
			res.missing++
			if len(res.firstMissing) < 5 {
				res.firstMissing = append(res.firstMissing, seq)
			}
		}
	}
	res.lastAt = r.lastAt
	for i, l := range r.latencies {
		if every <= 0 {
			break
		}
		b := int(time.Unix(0, r.writeTimes[i]).Sub(start) / every)
		for len(res.series) <= b {
			res.series = append(res.series, nil)
		}
		res.series[b] = append(res.series[b], l)
	}
	for _, b := range res.series {
		slices.Sort(b)
	}
	res.latencies = slices.Clone(r.latencies)
	slices.Sort(res.latencies)
	var sum time.Duration
	for _, l := range res.latencies {
		sum += l
	}
	if n := len(res.latencies); n > 0 {
		res.mean = sum / time.Duration(n)
	}
	return res
}
