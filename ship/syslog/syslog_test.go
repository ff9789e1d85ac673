package syslog

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosyslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/octetcounting"
	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/microsandbox/msb-logfs/engine"
	"github.com/microsandbox/msb-logfs/ship"
)

// receiver is an in-process syslog receiver: octet-counted RFC 5424
// messages, parsed strictly.
type receiver struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []*rfc5424.SyslogMessage
	errs []error
}

func listen(t *testing.T, cfg *tls.Config) *receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	r := &receiver{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *receiver) serve(c net.Conn) {
	defer c.Close()
	p := octetcounting.NewParser(gosyslog.WithListener(func(res *gosyslog.Result) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if res.Error != nil {
			r.errs = append(r.errs, res.Error)
			return
		}
		m := res.Message.(*rfc5424.SyslogMessage)
		r.msgs = append(r.msgs, m)
	}))
	p.Parse(c)
}

func (r *receiver) wait(t *testing.T, n int) []*rfc5424.SyslogMessage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got, errs := append([]*rfc5424.SyslogMessage(nil), r.msgs...), r.errs
		r.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("the receiver could not parse: %v", errs)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages arrived, want %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func sender(t *testing.T, raw string, tlsCfg *tls.Config) *Sender {
	u, _ := url.Parse(raw)
	s, err := New(Config{URL: u, Hostname: "testhost", Timeout: 2 * time.Second, TLS: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func batch() *ship.Batch {
	return &ship.Batch{Sandbox: "foo bar", Records: []ship.Record{
		{Time: engine.Time{Sec: 1777629600, Nsec: 123456789}, Source: "stderr", Severity: ship.SeverityError, HasID: true, ID: 7, Cursor: "AQ==", Body: []byte(`oops "quoted" ] \ end`)},
		{Time: engine.Time{Sec: 1777629601}, Source: "runtime", Severity: ship.SeverityWarn, Cursor: "Ag==", Body: []byte("two\nlines")},
	}}
}

func TestMessageFields(t *testing.T) {
	r := listen(t, nil)
	s := sender(t, "syslog+tcp://"+r.ln.Addr().String(), nil)
	if err := s.Send(context.Background(), batch()); err != nil {
		t.Fatal(err)
	}
	got := r.wait(t, 2)
	m := got[0]
	sd := (*m.StructuredData)[SDID]
	checks := []struct {
		name, got, want string
	}{
		{"timestamp", m.Timestamp.UTC().Format(time.RFC3339Nano), "2026-05-01T10:00:00.123456Z"},
		{"hostname", *m.Hostname, "testhost"},
		{"app-name", *m.Appname, "foo_bar"},
		{"procid", *m.ProcID, "7"},
		{"msgid", *m.MsgID, "stderr"},
		{"message", *m.Message, `oops "quoted" ] \ end`},
		{"sandbox", sd["sandbox"], "foo bar"},
		{"source", sd["source"], "stderr"},
		{"session", sd["session"], "7"},
		{"cursor", sd["cursor"], "AQ=="},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
	if *m.Severity != 3 || *m.Facility != 1 {
		t.Errorf("severity %d facility %d, want 3 (err) and 1 (user)", *m.Severity, *m.Facility)
	}
	if m2 := got[1]; *m2.Message != "two\nlines" || *m2.Severity != 4 || m2.ProcID != nil {
		t.Errorf("second message: %q severity %d procid %v", *m2.Message, *m2.Severity, m2.ProcID)
	}
}

func TestLongBodySplitIntoParts(t *testing.T) {
	r := listen(t, nil)
	s := sender(t, "syslog+tcp://"+r.ln.Addr().String()+"?max=2048", nil)
	body := strings.Repeat("é0123456789", 1000) // 12,000 bytes, 2-byte runes on the way
	b := &ship.Batch{Sandbox: "foo", Records: []ship.Record{{Time: engine.Time{Sec: 1}, Source: "stdout", Severity: ship.SeverityInfo, Cursor: "AQ==", Body: []byte(body)}}}
	if err := s.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	var joined strings.Builder
	msgs := r.wait(t, 7)
	for i, m := range msgs {
		sd := (*m.StructuredData)[SDID]
		if want := strconv.Itoa(i+1) + "/7"; sd["part"] != want || sd["cursor"] != "AQ==" {
			t.Errorf("message %d: part %q cursor %q, want %s and AQ==", i, sd["part"], sd["cursor"], want)
		}
		joined.WriteString(*m.Message)
	}
	if joined.String() != body {
		t.Error("the parts do not join to the body")
	}
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	r := listen(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	s := sender(t, "syslog+tls://"+r.ln.Addr().String(), &tls.Config{RootCAs: pool})
	if err := s.Send(context.Background(), batch()); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 2)
	// A receiver the roots do not vouch for is refused.
	bad := sender(t, "syslog+tls://"+r.ln.Addr().String(), &tls.Config{RootCAs: x509.NewCertPool()})
	if err := bad.Send(context.Background(), batch()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an unknown certificate: %v", err)
	}
}

// A receiver that closes the connection: the batch is not delivered, and
// the next send reconnects.
func TestConnectionLostIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close() // closes at once, unread
		}
	}()
	s := sender(t, "syslog+tcp://"+ln.Addr().String(), nil)
	time.Sleep(50 * time.Millisecond)
	if err := s.Send(context.Background(), batch()); err == nil {
		t.Fatal("a batch to a closed connection counted as delivered")
	}
	ln.Close()
	if err := s.Send(context.Background(), batch()); err == nil {
		t.Fatal("a batch with no receiver counted as delivered")
	}
}

func TestBadURLs(t *testing.T) {
	for _, raw := range []string{"syslog+udp://h:514", "syslog+tcp://h", "syslog+tcp://:514", "syslog+tcp://h:514?max=10", "syslog+tcp://h:514?max=x"} {
		u, _ := url.Parse(raw)
		if _, err := New(Config{URL: u}); err == nil {
			t.Errorf("%s: accepted", raw)
		}
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// Readers of several sandboxes send at once: their batches take turns on
// the one connection, every message whole.
func TestConcurrentSends(t *testing.T) {
	r := listen(t, nil)
	s := sender(t, "syslog+tcp://"+r.ln.Addr().String(), nil)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				if err := s.Send(context.Background(), batch()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	r.wait(t, 4*25*2)
}

// A sandbox name holding the bytes RFC 5424 escapes in a parameter value
// (`"`, `\`, `]`) arrives whole, not as an empty value.
func TestParamValueEscaped(t *testing.T) {
	r := listen(t, nil)
	s := sender(t, "syslog+tcp://"+r.ln.Addr().String(), nil)
	b := batch()
	b.Sandbox = `web]1 "a\b"`
	b.Records = b.Records[:1]
	if err := s.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	m := r.wait(t, 1)[0]
	if got := (*m.StructuredData)[SDID]["sandbox"]; got != `web]1 "a\b"` && got != `web\]1 \"a\\b\"` {
		t.Errorf("sandbox parameter %q, want the name", got)
	}
}
