package main

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/encoding/protowire"
)

// sink is an OTLP/HTTP receiver that decodes every request (decodeLogs),
// counts its records and the bytes of their bodies, and acknowledges it.
type sink struct {
	srv     *http.Server
	url     string
	records atomic.Int64
	bytes   atomic.Int64
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve)}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	records, bytes, err := decodeLogs(data)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.records.Add(records)
	s.bytes.Add(bytes)
	resp, _ := plogotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
}

// decodeLogs walks an OTLP ExportLogsServiceRequest in protobuf wire
// format — resource_logs (1) → scope_logs (2) → log_records (2) → body
// (5) → string_value (1) or bytes_value (7) — checking every field's
// framing, and returns its records and their bodies' bytes. It builds no
// objects, so that the sink costs little next to ship on a small machine.
func decodeLogs(req []byte) (records, bytes int64, err error) {
	err = eachField(req, 1, func(rl []byte) error {
		return eachField(rl, 2, func(sl []byte) error {
			return eachField(sl, 2, func(lr []byte) error {
				records++
				return eachField(lr, 5, func(body []byte) error {
					return eachField(body, -1, func(v []byte) error {
						bytes += int64(len(v))
						return nil
					})
				})
			})
		})
	})
	return records, bytes, err
}

// eachField calls fn with the bytes of every length-delimited field num
// of msg (num -1: fields 1 and 7, a string or bytes AnyValue), skipping
// the others; a malformed field is an error.
func eachField(msg []byte, num protowire.Number, fn func([]byte) error) error {
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return protowire.ParseError(l)
		}
		msg = msg[l:]
		if typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				return protowire.ParseError(l)
			}
			msg = msg[l:]
			if n == num || (num == -1 && (n == 1 || n == 7)) {
				if err := fn(v); err != nil {
					return err
				}
			}
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			return protowire.ParseError(l)
		}
		msg = msg[l:]
	}
	return nil
}

func (s *sink) close() { s.srv.Close() }
