package otlp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/ship"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestEndpoint(t *testing.T) {
	for _, tc := range []struct {
		to   string
		env  map[string]string
		want string
	}{
		{"http://h:4318", nil, "http://h:4318/v1/logs"},
		{"http://loki:3100/otlp/", nil, "http://loki:3100/otlp/v1/logs"},
		{"", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4318"}, "https://c:4318/v1/logs"},
		{"", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4318", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://l:1/custom"}, "http://l:1/custom"},
		{"http://to:1", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://l:1/custom"}, "http://to:1/v1/logs"},
	} {
		got, _, err := Endpoint(tc.to, env(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("Endpoint(%q, %v) = %q, %v; want %q", tc.to, tc.env, got, err, tc.want)
		}
	}
	if _, _, err := Endpoint("", env(nil)); !errors.Is(err, ErrNoEndpoint) {
		t.Errorf("no endpoint: %v", err)
	}
	if _, _, err := Endpoint("ftp://x", env(nil)); err == nil {
		t.Error("ftp:// accepted")
	}
}

func TestHeadersParsedAndNeverInErrors(t *testing.T) {
	_, h, err := Endpoint("http://h:1", env(map[string]string{
		"OTEL_EXPORTER_OTLP_HEADERS":      "X-Scope-OrgID=team1, Authorization=Basic%20ab+c/s3cret==",
		"OTEL_EXPORTER_OTLP_LOGS_HEADERS": "X-Scope-OrgID=team2",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Authorization") != "Basic ab+c/s3cret==" || h.Get("X-Scope-OrgID") != "team2" {
		t.Errorf("headers %v", h)
	}
	for _, bad := range []string{"novalue", "k=%zzs3cret", "=s3cret", "bad key=s3cret", "k=s3cret%0d%0aX-Evil: 1"} {
		_, _, err := Endpoint("http://h:1", env(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": bad}))
		if err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows a header value: %v", err)
		}
	}
}

func TestSendClassifiesAnswers(t *testing.T) {
	b := &ship.Batch{Sandbox: "foo", Records: []ship.Record{{Time: engine.Time{Sec: 1}, Source: "stdout", Severity: ship.SeverityInfo, Cursor: "AQ==", Body: []byte("x")}}}
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		check  func(error) bool
	}{
		{"200 empty", func(w http.ResponseWriter) { w.WriteHeader(200) }, func(err error) bool { return err == nil }},
		{"400", func(w http.ResponseWriter) { http.Error(w, "bad", 400) }, func(err error) bool { var r *ship.RejectedError; return errors.As(err, &r) && r.Records == 1 }},
		{"413", func(w http.ResponseWriter) { http.Error(w, "too big", http.StatusRequestEntityTooLarge) }, func(err error) bool {
			var r *ship.TooLargeError
			return errors.As(err, &r) && r.Records == 1 && strings.Contains(r.Reason, "too big")
		}},
		{"429", func(w http.ResponseWriter) { w.Header().Set("Retry-After", "7"); w.WriteHeader(429) }, func(err error) bool {
			var r *ship.RetryError
			return errors.As(err, &r) && r.After == 7*time.Second
		}},
		{"503 date", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", time.Now().Add(30*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(503)
		}, func(err error) bool {
			var r *ship.RetryError
			return errors.As(err, &r) && r.After > 25*time.Second && r.After <= 30*time.Second
		}},
		{"401 kept", func(w http.ResponseWriter) { w.WriteHeader(401) }, func(err error) bool {
			var r *ship.RejectedError
			return err != nil && !errors.As(err, &r)
		}},
		{"partial", func(w http.ResponseWriter) {
			resp := plogotlp.NewExportResponse()
			resp.PartialSuccess().SetRejectedLogRecords(1)
			data, _ := resp.MarshalJSON()
			w.Header().Set("Content-Type", "application/json")
			w.Write(data)
		}, func(err error) bool { var p *ship.PartialError; return errors.As(err, &p) && p.Rejected == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer s3cret" {
					t.Error("the configured header was not sent")
				}
				tc.answer(w)
			}))
			defer srv.Close()
			s, err := New(Config{URL: srv.URL + "/v1/logs", Headers: http.Header{"Authorization": {"Bearer s3cret"}}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Send(context.Background(), b)
			if !tc.check(err) {
				t.Errorf("Send: %v", err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows a header value: %v", err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	s, _ := New(Config{URL: srv.URL, Timeout: 200 * time.Millisecond})
	start := time.Now()
	err := s.Send(context.Background(), &ship.Batch{Sandbox: "x", Records: []ship.Record{{Cursor: "AQ=="}}})
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("Send to a receiver that never answers: %v after %v", err, time.Since(start))
	}
}

func TestEncodeKeepsBytesThatAreNotUTF8(t *testing.T) {
	b := &ship.Batch{Sandbox: "foo", Records: []ship.Record{{Source: "kernel", Cursor: "AQ==", Body: []byte("a\xffb")}}}
	data, err := Encode(b, "h", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(data); err != nil {
		t.Fatal(err)
	}
	body := req.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body()
	if body.Type() != pcommon.ValueTypeBytes || string(body.Bytes().AsRaw()) != "a\xffb" {
		t.Errorf("body %v %q", body.Type(), body.AsString())
	}
}
