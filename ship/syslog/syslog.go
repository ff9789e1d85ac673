// Package syslog is ship's syslog sender: each record as an RFC 5424
// message, framed by octet counting (RFC 6587), over TCP or TLS. The
// messages are built with go-syslog's RFC 5424 builder. TCP carries no
// acknowledgement: a batch counts as delivered once it is written and the
// connection is still open a moment later (see docs/ship.md for what that
// means for at-least-once).
package syslog

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/microsandbox/msb-logfs/ship"
)

// SDID is the structured data element of every message: "msb" at
// 32473, the private enterprise number RFC 5612 reserves for
// documentation (msb-logfs has none of its own).
const SDID = "msb@32473"

// DefaultMaxMessage is the longest message sent, header included: rsyslog's
// default maxMessageSize, and what RFC 5425 says a receiver should take.
const DefaultMaxMessage = 8192

// minMaxMessage is the smallest ?max= accepted: a header with its
// structured data must fit with room for text.
const minMaxMessage = 1024

// facility is user-level messages (1).
const facility = 1

// probeWait is how long a written batch's connection is watched for a
// reset before the batch counts as delivered.
const probeWait = 20 * time.Millisecond

// Config is where and how to send.
type Config struct {
	URL      *url.URL // syslog+tcp://HOST:PORT or syslog+tls://HOST:PORT, ?max=N
	Hostname string
	Timeout  time.Duration
	TLS      *tls.Config // for syslog+tls; nil: the system's roots
}

// Sender writes batches to one syslog receiver, over one connection made
// when first needed and again after an error. Sends from several
// goroutines take turns.
type Sender struct {
	mu   sync.Mutex // held by Send and Close: one batch on the connection at a time
	cfg  Config
	addr string
	max  int
	conn net.Conn
	w    *bufio.Writer
	msg  []byte
}

// New checks cfg and returns a sender; it connects at the first Send.
func New(cfg Config) (*Sender, error) {
	u := cfg.URL
	if u.Scheme != "syslog+tcp" && u.Scheme != "syslog+tls" {
		return nil, fmt.Errorf("--to %s: want syslog+tcp://HOST:PORT or syslog+tls://HOST:PORT", u.Redacted())
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("--to %s: want a host and a port", u.Redacted())
	}
	s := &Sender{cfg: cfg, addr: u.Host, max: DefaultMaxMessage}
	if v := u.Query().Get("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < minMaxMessage || n > 1<<20 {
			return nil, fmt.Errorf("--to %s: max=%s: want %d to %d octets", u.Redacted(), v, minMaxMessage, 1<<20)
		}
		s.max = n
	}
	if cfg.Timeout <= 0 {
		s.cfg.Timeout = 10 * time.Second
	}
	return s, nil
}

// Close closes the connection.
func (s *Sender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeConn()
}

// closeConn closes the connection; s.mu is held.
func (s *Sender) closeConn() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// Send writes every record of b, then checks that the connection was not
// reset meanwhile.
func (s *Sender) Send(ctx context.Context, b *ship.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.connect(ctx); err != nil {
		return err
	}
	deadline := time.Now().Add(s.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	s.conn.SetDeadline(deadline)
	for i := range b.Records {
		if err := s.write(b.Sandbox, &b.Records[i]); err != nil {
			s.closeConn()
			return err
		}
	}
	if err := s.w.Flush(); err != nil {
		s.closeConn()
		return fmt.Errorf("syslog %s: %w", s.addr, err)
	}
	if err := s.probe(); err != nil {
		s.closeConn()
		return err
	}
	return nil
}

// connect dials the receiver unless connected.
func (s *Sender) connect(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	d := &net.Dialer{Timeout: s.cfg.Timeout, KeepAlive: 30 * time.Second}
	var conn net.Conn
	var err error
	if s.cfg.URL.Scheme == "syslog+tls" {
		td := &tls.Dialer{NetDialer: d, Config: s.cfg.TLS}
		conn, err = td.DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return fmt.Errorf("syslog: connect: %w", err)
	}
	s.conn, s.w = conn, bufio.NewWriterSize(conn, 64<<10)
	return nil
}

// probe reads from the connection for a moment: a receiver sends nothing,
// so anything but a timeout (end of file, a reset) means it went away and
// what was written may be lost.
func (s *Sender) probe() error {
	s.conn.SetReadDeadline(time.Now().Add(probeWait))
	var one [1]byte
	_, err := s.conn.Read(one[:])
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	if err == nil {
		err = errors.New("receiver sent data")
	}
	return fmt.Errorf("syslog %s: connection lost after a batch: %w", s.addr, err)
}

// write frames r's messages (more than one when its body is split).
func (s *Sender) write(sandbox string, r *ship.Record) error {
	parts, err := s.split(sandbox, r)
	if err != nil {
		return err
	}
	for i, body := range parts {
		s.msg, err = s.build(s.msg[:0], sandbox, r, body, i+1, len(parts))
		if err != nil {
			return err
		}
		s.w.WriteString(strconv.Itoa(len(s.msg)))
		s.w.WriteByte(' ')
		if _, err := s.w.Write(s.msg); err != nil {
			return fmt.Errorf("syslog %s: %w", s.addr, err)
		}
	}
	return nil
}

// split cuts r's body into the parts that fit a message each: the room
// left by the header is measured with an empty body, on UTF-8 boundaries.
func (s *Sender) split(sandbox string, r *ship.Record) ([][]byte, error) {
	head, err := s.build(nil, sandbox, r, nil, 999999, 999999)
	if err != nil {
		return nil, err
	}
	room := s.max - len(head) - 1
	if room < 64 {
		return nil, fmt.Errorf("syslog: a header of %d octets leaves no room in %d", len(head), s.max)
	}
	body := r.Body
	if len(body) <= room {
		return [][]byte{body}, nil
	}
	var parts [][]byte
	for len(body) > room {
		cut := room
		for cut > room-utf8.UTFMax && cut > 0 && !utf8.RuneStart(body[cut]) {
			cut--
		}
		parts = append(parts, body[:cut])
		body = body[cut:]
	}
	return append(parts, body), nil
}

// build appends one message of r, with body as its text and part of n.
func (s *Sender) build(dst []byte, sandbox string, r *ship.Record, body []byte, part, n int) ([]byte, error) {
	m := &rfc5424.SyslogMessage{}
	m.SetPriority(facility*8 + severity(r.Severity))
	m.SetVersion(1)
	m.SetTimestamp(timestamp(r.Time.Sec, r.Time.Nsec))
	if s.cfg.Hostname != "" {
		m.SetHostname(printable(s.cfg.Hostname, 255))
	}
	m.SetAppname(printable(sandbox, 48))
	if r.HasID {
		m.SetProcID(strconv.FormatUint(r.ID, 10))
	}
	m.SetMsgID(printable(r.Source, 32))
	m.SetParameter(SDID, "sandbox", paramValue(sandbox))
	m.SetParameter(SDID, "source", r.Source)
	if r.HasID {
		m.SetParameter(SDID, "session", strconv.FormatUint(r.ID, 10))
	}
	m.SetParameter(SDID, "cursor", r.Cursor)
	if n > 1 {
		m.SetParameter(SDID, "part", fmt.Sprintf("%d/%d", part, n))
	}
	if len(body) > 0 {
		m.SetMessage(string(body))
	}
	out, err := m.String()
	if err != nil {
		return dst, fmt.Errorf("syslog: build the message of %s: %w", r.Cursor, err)
	}
	return append(dst, out...), nil
}

// paramEscaper escapes what RFC 5424 §6.3.3 escapes in a PARAM-VALUE; the
// message builder takes values already escaped and drops any other.
var paramEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)

// paramValue is s as a PARAM-VALUE: valid UTF-8, escaped.
func paramValue(s string) string {
	return paramEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}
