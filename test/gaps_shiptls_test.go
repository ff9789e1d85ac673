package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microsandbox/msb-logfs/msbwriter"
)

// writeTestCA makes a self-signed CA and a server certificate it signed
// for 127.0.0.1, and writes ca.pem, server.pem and server.key into dir.
func writeTestCA(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := newKey(), newKey()
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "msb-logfs test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caTmpl, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	for path, block := range map[string]*pem.Block{
		ca:   {Type: "CERTIFICATE", Bytes: caDER},
		cert: {Type: "CERTIFICATE", Bytes: srvDER},
		key:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, cert, key
}

// newTLSCollector is the Collector of newCollector with its OTLP/HTTP
// receiver on TLS, with the certificate and key given.
func newTLSCollector(t *testing.T, cert, key string) *collector {
	c := newCollector(t)
	path := filepath.Join(c.dir, "config.yaml")
	endpoint := fmt.Sprintf("        endpoint: 127.0.0.1:%d\n", c.port)
	cfg := string(mustRead(t, path))
	if !strings.Contains(cfg, endpoint) {
		t.Fatalf("the Collector's configuration has no %q:\n%s", endpoint, cfg)
	}
	tls := fmt.Sprintf("        tls:\n          cert_file: %s\n          key_file: %s\n", cert, key)
	cfg = strings.Replace(cfg, endpoint, endpoint+tls, 1)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// shipEnv is the environment of a ship run: this one without any
// OTEL_EXPORTER_OTLP_* or SSL_CERT_* variable, plus extra.
func shipEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_EXPORTER_OTLP_") && !strings.HasPrefix(kv, "SSL_CERT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// TestGapsShipHTTPSAndVariables: ship sends over https to the Collector
// with a self-signed CA given by SSL_CERT_FILE, named by --to, by
// OTEL_EXPORTER_OTLP_ENDPOINT alone, and by OTEL_EXPORTER_OTLP_LOGS_ENDPOINT
// (which wins over the other); without the CA nothing is sent and the log
// says why. A bad variable is a one-line error naming it, status 2,
// without the endpoint's secrets, before anything is written.
func TestGapsShipHTTPSAndVariables(t *testing.T) {
	ca, cert, key := writeTestCA(t, t.TempDir())
	recv := newTLSCollector(t, cert, key)
	recv.start(t)
	base := fmt.Sprintf("https://127.0.0.1:%d", recv.port)
	const perRun = 20
	runs := []struct {
		sandbox string
		args    []string
		env     []string
	}{
		{"via-to", []string{"--to", base}, nil},
		{"via-endpoint", nil, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + base}},
		{"via-logs-endpoint", nil, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:1", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=" + base + "/v1/logs"}},
	}
	for _, r := range runs {
		home := t.TempDir()
		s, err := msbwriter.Create(home, r.sandbox, msbwriter.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range perRun {
			if err := s.Exec(msbwriter.Chunk{Source: "stdout", Data: fmt.Appendf(nil, "rec %d\n", i)}); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		args := append([]string{"ship", "--home", home, "--state-dir", filepath.Join(t.TempDir(), "state"), "--once"}, r.args...)
		cmd := exec.CommandContext(ctx, binary, args...)
		cmd.Env = shipEnv(append(r.env, "SSL_CERT_FILE="+ca)...)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s: ship --once: %v\n%s", r.sandbox, err, out)
		}
	}

	// Without the CA: the certificate is refused, retried, logged.
	home := t.TempDir()
	s, err := msbwriter.Create(home, "no-ca", msbwriter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(msbwriter.Chunk{Source: "stdout", Data: []byte("rec 0\n")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := exec.Command(binary, "ship", "--home", home, "--state-dir", filepath.Join(t.TempDir(), "state"), "--retry-max", "1s", "--to", base)
	p.Env = shipEnv()
	noCA := &lockedBuffer{}
	p.Stderr = noCA
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "ship without the CA to log a certificate error", func() bool {
		return strings.Contains(noCA.String(), "certificate signed by unknown authority")
	})
	p.Process.Kill()
	p.Wait()

	recv.stop(t)
	counts := map[string]int{}
	for _, r := range recv.records(t) {
		counts[r.sandbox]++
	}
	for _, r := range runs {
		if got := tally(t, recv.records(t), r.sandbox); len(got) != perRun || counts[r.sandbox] != perRun {
			t.Errorf("%s: %d records (%d distinct) arrived over https, want %d", r.sandbox, counts[r.sandbox], len(got), perRun)
		}
	}
	if counts["no-ca"] != 0 {
		t.Errorf("without the CA, %d records arrived", counts["no-ca"])
	}

	bad := []struct{ env, name string }{
		{"OTEL_EXPORTER_OTLP_ENDPOINT=127.0.0.1:4318", "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT=ftp://u:secret@h:1", "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=localhost:4318/v1/logs", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"},
		{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=https://u:secret@/v1/logs?token=secret", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"},
	}
	for _, b := range bad {
		state := filepath.Join(t.TempDir(), "state")
		cmd := exec.Command(binary, "ship", "--home", home, "--state-dir", state, "--once")
		cmd.Env = shipEnv(b.env)
		out, err := cmd.CombinedOutput()
		msg := strings.TrimSuffix(string(out), "\n")
		if exitCode(err) != 2 || strings.Contains(msg, "\n") || !strings.Contains(msg, b.name) || !strings.Contains(msg, "not an http:// or https:// URL") {
			t.Errorf("%s: status %d, output %q; want status 2 and one line naming %s and what is wrong", b.env, exitCode(err), out, b.name)
		}
		if strings.Contains(msg, "secret") {
			t.Errorf("%s: the error shows the endpoint's secret: %q", b.env, msg)
		}
		if _, err := os.Stat(state); !os.IsNotExist(err) {
			t.Errorf("%s: the state directory was made: %v", b.env, err)
		}
	}
}
