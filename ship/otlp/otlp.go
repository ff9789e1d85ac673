// Package otlp is ship's OpenTelemetry sender: batches as OTLP/HTTP
// protobuf export requests to /v1/logs, answered by a 2xx (in a partial
// success, with the number of records the receiver rejected). Building
// the records and reading the answer (partial success included) is
// pdata's; the retry policy is ship's: this package only classifies each
// answer.
package otlp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/microsandbox/msb-logfs/ship"
)

// Attribute keys of the records.
const (
	AttrSandbox = "msb.sandbox"
	AttrSource  = "msb.source"
	AttrSession = "msb.session_id"
	AttrCursor  = "msb.cursor"
)

// maxAnswer bounds the bytes of an answer that are read.
const maxAnswer = 1 << 20

// Config is where and how to send.
type Config struct {
	URL      string      // the full URL of the logs endpoint (…/v1/logs)
	Headers  http.Header // sent with every request; their values are never logged
	Timeout  time.Duration
	Hostname string // the host.name resource attribute
	Client   *http.Client
}

// Sender sends batches to one OTLP/HTTP endpoint.
type Sender struct {
	cfg    Config
	client *http.Client
}

// New returns a sender for cfg.
func New(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTLP endpoint %q: want http://HOST[:PORT][/PATH] or https://…", redact(cfg.URL))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	c := cfg.Client
	if c == nil {
		c = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &Sender{cfg: cfg, client: c}, nil
}

// Close closes idle connections.
func (s *Sender) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// Send posts b as one export request and classifies the answer.
func (s *Sender) Send(ctx context.Context, b *ship.Batch) error {
	body, err := Encode(b, s.cfg.Hostname, time.Now())
	if err != nil {
		return &ship.RejectedError{Records: b.Len(), Reason: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("OTLP request: %w", err)
	}
	for k, v := range s.cfg.Headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("OTLP post to %s: %w", redact(s.cfg.URL), err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("OTLP answer from %s: %w", redact(s.cfg.URL), err)
	}
	return classify(resp, answer, b.Len())
}

// classify turns an answer into Send's result.
func classify(resp *http.Response, answer []byte, records int) error {
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return partial(resp, answer)
	case code == http.StatusBadRequest:
		return &ship.RejectedError{Records: records, Reason: fmt.Sprintf("HTTP %d: %s", code, status(resp, answer))}
	case code == http.StatusRequestEntityTooLarge:
		return &ship.TooLargeError{Records: records, Reason: fmt.Sprintf("HTTP %d: %s", code, status(resp, answer))}
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		return &ship.RetryError{Err: fmt.Errorf("HTTP %d: %s", code, status(resp, answer)), After: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	// Anything else (401, 404, 500, 502…) may be fixed by its operator:
	// the batch is kept and tried again.
	return fmt.Errorf("HTTP %d: %s", code, status(resp, answer))
}

// partial reads a 2xx answer's partial success: the records it says were
// rejected are refused for good (the count is bounded to an int32; ship
// bounds it to the batch).
func partial(resp *http.Response, answer []byte) error {
	if len(answer) == 0 {
		return nil
	}
	er := plogotlp.NewExportResponse()
	var err error
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		err = er.UnmarshalJSON(answer)
	} else {
		err = er.UnmarshalProto(answer)
	}
	if err != nil {
		return nil // a 2xx whose body is not an export response: nothing was said to be rejected
	}
	ps := er.PartialSuccess()
	if n := ps.RejectedLogRecords(); n > 0 {
		return &ship.PartialError{Rejected: int(min(n, math.MaxInt32)), Reason: ps.ErrorMessage()}
	}
	return nil
}

// status returns the reason an error answer gives: its google.rpc.Status
// message if it is one, else its first line of text.
func status(resp *http.Response, answer []byte) string {
	msg := string(answer)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 200 || !utf8.ValidString(msg) {
		return http.StatusText(resp.StatusCode)
	}
	if msg == "" {
		return http.StatusText(resp.StatusCode)
	}
	return msg
}

// retryAfter reads a Retry-After header: seconds or an HTTP date; 0 when
// absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redact returns u without its user information or query, which may
// carry secrets.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(endpoint)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// Encode returns b as an OTLP export request in protobuf: one resource
// (service.name the sandbox, service.namespace "microsandbox",
// host.name), one scope, one log record per record.
func Encode(b *ship.Batch, hostname string, now time.Time) ([]byte, error) {
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	res := rl.Resource().Attributes()
	res.PutStr("service.name", b.Sandbox)
	res.PutStr("service.namespace", "microsandbox")
	if hostname != "" {
		res.PutStr("host.name", hostname)
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("msb-logfs")
	lrs := sl.LogRecords()
	lrs.EnsureCapacity(len(b.Records))
	observed := pcommon.NewTimestampFromTime(now)
	for i := range b.Records {
		putRecord(lrs.AppendEmpty(), &b.Records[i], b.Sandbox, observed)
	}
	data, err := plogotlp.NewExportRequestFromLogs(logs).MarshalProto()
	if err != nil {
		return nil, fmt.Errorf("encode OTLP request: %w", err)
	}
	return data, nil
}

// putRecord fills lr from r.
func putRecord(lr plog.LogRecord, r *ship.Record, sandbox string, observed pcommon.Timestamp) {
	lr.SetTimestamp(pcommon.Timestamp(uint64(r.Time.Sec)*1e9 + uint64(r.Time.Nsec)))
	lr.SetObservedTimestamp(observed)
	lr.SetSeverityNumber(plog.SeverityNumber(r.Severity))
	lr.SetSeverityText(r.Severity.String())
	if utf8.Valid(r.Body) {
		lr.Body().SetStr(string(r.Body))
	} else { // bytes a text log holds as they are: kept, not replaced
		lr.Body().SetEmptyBytes().FromRaw(r.Body)
	}
	a := lr.Attributes()
	a.EnsureCapacity(4)
	a.PutStr(AttrSandbox, sandbox)
	a.PutStr(AttrSource, r.Source)
	if r.HasID {
		a.PutInt(AttrSession, int64(r.ID))
	}
	a.PutStr(AttrCursor, r.Cursor)
}
