package main

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// sink is an OTLP/HTTP receiver that decodes every request, counts its
// records and the bytes of their bodies, and acknowledges it.
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
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rls := req.Logs().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			s.records.Add(int64(lrs.Len()))
			for k := 0; k < lrs.Len(); k++ {
				s.bytes.Add(int64(len(lrs.At(k).Body().AsString())))
			}
		}
	}
	resp, _ := plogotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
}

func (s *sink) close() { s.srv.Close() }
