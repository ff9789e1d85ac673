package ship_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/microsandbox/msb-logfs/ship/otlp"
)

// got is one record a sink decoded.
type got struct {
	sandbox, source, cursor, body string
	severity                      plog.SeverityNumber
	session                       int64
	hasSession                    bool
}

// sink is an in-process OTLP/HTTP receiver that decodes every request;
// answer, when set, answers instead (and the request is not kept unless
// it returns true).
type sink struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	records  []got
	requests int
	answer   func(w http.ResponseWriter, n int) (keep bool)
	raw      bool // acknowledge without decoding (benchmarks)
	// tooLarge, when set, says which requests are refused with a 413
	// (they are not kept).
	tooLarge func(recs []got) bool
	firsts   map[string]bool // the first cursor of every request
}

func newSink(t testing.TB) *sink {
	s := &sink{t: t}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) url() string { return s.srv.URL + "/v1/logs" }

func (s *sink) setAnswer(fn func(w http.ResponseWriter, n int) bool) {
	s.mu.Lock()
	s.answer = fn
	s.mu.Unlock()
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/logs" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad path or type", http.StatusNotFound)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if s.raw {
		w.WriteHeader(http.StatusOK)
		return
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	recs := decode(req.Logs())
	s.mu.Lock()
	s.requests++
	if len(recs) > 0 {
		if s.firsts == nil {
			s.firsts = map[string]bool{}
		}
		s.firsts[recs[0].cursor] = true
	}
	answer := s.answer
	n := s.requests
	tooLarge := s.tooLarge
	s.mu.Unlock()
	if tooLarge != nil && tooLarge(recs) {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	if answer != nil && !answer(w, n) {
		return
	}
	s.mu.Lock()
	s.records = append(s.records, recs...)
	s.mu.Unlock()
	if answer == nil {
		resp, _ := plogotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(resp)
	}
}

// decode flattens an export request into records.
func decode(logs plog.Logs) []got {
	var out []got
	for i := 0; i < logs.ResourceLogs().Len(); i++ {
		rl := logs.ResourceLogs().At(i)
		svc, _ := rl.Resource().Attributes().Get("service.name")
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				a := lr.Attributes()
				sb, _ := a.Get(otlp.AttrSandbox)
				src, _ := a.Get(otlp.AttrSource)
				cur, _ := a.Get(otlp.AttrCursor)
				g := got{sandbox: sb.Str(), source: src.Str(), cursor: cur.Str(), severity: lr.SeverityNumber()}
				if sess, ok := a.Get(otlp.AttrSession); ok {
					g.session, g.hasSession = sess.Int(), true
				}
				if lr.Body().Type() == 7 { // bytes
					g.body = string(lr.Body().Bytes().AsRaw())
				} else {
					g.body = lr.Body().Str()
				}
				if svc.Str() != g.sandbox {
					panic("service.name " + svc.Str() + " is not the record's sandbox " + g.sandbox)
				}
				out = append(out, g)
			}
		}
	}
	return out
}

// all returns the records received so far.
func (s *sink) all() []got {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]got(nil), s.records...)
}

// count returns how many requests reached the sink.
func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}
