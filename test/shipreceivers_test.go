package test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// shipped is one record as a receiver stored it.
type shipped struct {
	sandbox, cursor, body string
}

// shipReceiver is a real log store the ship tests send to, run as a
// process of the test.
type shipReceiver interface {
	target() string // ship's --to
	start(t *testing.T)
	stop(t *testing.T) // gracefully: what it took is stored
	records(t *testing.T) []shipped
}

// needTool returns path if it is executable, else skips the test — or
// fails it where the tools are required (MSB_LOGFS_REQUIRE_FUSE=1, CI).
func needTool(t *testing.T, path, how string) string {
	t.Helper()
	if fi, err := os.Stat(path); err == nil && fi.Mode()&0o111 != 0 {
		return path
	}
	if os.Getenv("MSB_LOGFS_REQUIRE_FUSE") == "1" || os.Getenv("CI") != "" {
		t.Fatalf("%s is missing (required here): %s", path, how)
	}
	t.Skipf("skipping: %s is missing: %s", path, how)
	return ""
}

// needPython returns the path of python3, as needTool does.
func needPython(t *testing.T) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		python = "/usr/bin/python3"
	}
	return needTool(t, python, "apt-get install python3")
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// otelcolPath is where test/otelcol/build.sh caches the Collector, or
// $MSB_LOGFS_OTELCOL.
func otelcolPath(t *testing.T) string {
	if p := os.Getenv("MSB_LOGFS_OTELCOL"); p != "" {
		return p
	}
	manifest := mustRead(t, "otelcol/builder.yaml")
	sum := sha256.Sum256(manifest)
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "msb-logfs", "otelcol-"+hex.EncodeToString(sum[:])[:16], "otelcol")
}

// collector is an OpenTelemetry Collector: the OTLP/HTTP receiver and
// the file exporter (JSON lines, appended).
type collector struct {
	bin, dir, out string
	daemon
}

func newCollector(t *testing.T) *collector {
	bin := needTool(t, otelcolPath(t), "build it with test/otelcol/build.sh")
	dir := t.TempDir()
	c := &collector{bin: bin, dir: dir, out: filepath.Join(dir, "out.jsonl"), daemon: newDaemon(t)}
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  file:
    path: %s
    append: true
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, c.port, c.out)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *collector) target() string { return fmt.Sprintf("http://127.0.0.1:%d", c.port) }

func (c *collector) start(t *testing.T) {
	c.run(t, "the Collector", c.bin, "--config", filepath.Join(c.dir, "config.yaml"))
}

func (c *collector) stop(t *testing.T) { c.end(t, "the Collector") }

func (c *collector) records(t *testing.T) []shipped {
	t.Helper()
	data, err := os.ReadFile(c.out)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []shipped
	var u plog.JSONUnmarshaler
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		logs, err := u.UnmarshalLogs(line)
		if err != nil {
			continue // a line being written
		}
		for i := 0; i < logs.ResourceLogs().Len(); i++ {
			sls := logs.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					sb, _ := lr.Attributes().Get("msb.sandbox")
					cur, _ := lr.Attributes().Get("msb.cursor")
					out = append(out, shipped{sandbox: sb.Str(), cursor: cur.Str(), body: lr.Body().AsString()})
				}
			}
		}
	}
	return out
}

// rsyslog is rsyslogd with imtcp on 127.0.0.1 and an omfile template of
// the structured data and the message, one line each.
type rsyslog struct {
	bin, dir, out string
	daemon
}

func newRsyslog(t *testing.T) *rsyslog {
	bin := needTool(t, "/usr/sbin/rsyslogd", "apt-get install rsyslog")
	dir := t.TempDir()
	r := &rsyslog{bin: bin, dir: dir, out: filepath.Join(dir, "out.log"), daemon: newDaemon(t)}
	cfg := fmt.Sprintf(`global(workDirectory="%s" maxMessageSize="64k")
module(load="imtcp")
template(name="msb" type="string" string="%%APP-NAME%% %%STRUCTURED-DATA%% %%msg%%\n")
input(type="imtcp" address="127.0.0.1" port="%d")
*.* action(type="omfile" file="%s" template="msb")
`, dir, r.port, r.out)
	if err := os.WriteFile(filepath.Join(dir, "rsyslog.conf"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rsyslog) target() string { return fmt.Sprintf("syslog+tcp://127.0.0.1:%d", r.port) }

func (r *rsyslog) start(t *testing.T) {
	r.run(t, "rsyslogd", r.bin, "-n", "-f", filepath.Join(r.dir, "rsyslog.conf"), "-i", filepath.Join(r.dir, "pid"))
}

func (r *rsyslog) stop(t *testing.T) { r.end(t, "rsyslogd") }

var sdParam = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

func (r *rsyslog) records(t *testing.T) []shipped {
	t.Helper()
	f, err := os.Open(r.out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []shipped
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		end := strings.Index(line, "] ")
		if end < 0 {
			continue
		}
		s := shipped{body: line[end+2:]}
		for _, m := range sdParam.FindAllStringSubmatch(line[:end+1], -1) {
			switch m[1] {
			case "sandbox":
				s.sandbox = m[2]
			case "cursor":
				s.cursor = m[2]
			}
		}
		out = append(out, s)
	}
	return out
}

// daemon is a receiver's process, listening on port of 127.0.0.1.
type daemon struct {
	port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd ended
	log    *lockedBuffer
}

// newDaemon picks the port; run makes the test's end kill a process left running.
func newDaemon(t *testing.T) daemon {
	return daemon{port: freePort(t), log: &lockedBuffer{}}
}

// run starts argv and waits until it listens.
func (d *daemon) run(t *testing.T, what string, argv ...string) {
	t.Helper()
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.exited = make(chan struct{})
	cmd, exited := d.cmd, d.exited
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	waitFor(t, 30*time.Second, what+" to listen", func() bool {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
}

// end stops the process with SIGTERM and waits for it.
func (d *daemon) end(t *testing.T, what string) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop:\n%s", what, d.log)
	}
}
