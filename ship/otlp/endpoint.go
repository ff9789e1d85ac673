package otlp

import (
	"errors"
	"fmt"
	"golang.org/x/net/http/httpguts"
	"net/http"
	"net/url"
	"strings"
)

// ErrNoEndpoint is returned by Endpoint when nothing names a target.
var ErrNoEndpoint = errors.New("no target: give --to, or set OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT")

// Endpoint returns the logs URL and headers to use, as the OpenTelemetry
// exporter variables mean them: to (--to) and OTEL_EXPORTER_OTLP_ENDPOINT
// are base URLs to which v1/logs is appended; OTEL_EXPORTER_OTLP_LOGS_ENDPOINT
// is used as it is. Headers come from OTEL_EXPORTER_OTLP_HEADERS, then
// OTEL_EXPORTER_OTLP_LOGS_HEADERS (which wins for a key in both): a
// comma-separated list of key=value, values URL-encoded. An error names
// the variable and never a header's value.
func Endpoint(to string, getenv func(string) string) (string, http.Header, error) {
	headers := http.Header{}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS"} {
		if err := parseHeaders(getenv(name), headers); err != nil {
			return "", nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	switch {
	case to != "":
		u, err := logsURL(to)
		return u, headers, err
	case getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") != "":
		u := getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
		if _, err := checkURL(u); err != nil {
			return "", nil, fmt.Errorf("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: %w", err)
		}
		return u, headers, nil
	case getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "":
		u, err := logsURL(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
		if err != nil {
			return "", nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
		}
		return u, headers, nil
	}
	return "", nil, ErrNoEndpoint
}

// logsURL appends v1/logs to base's path.
func logsURL(base string) (string, error) {
	u, err := checkURL(base)
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/logs"
	u.RawPath = ""
	return u.String(), nil
}

// checkURL parses raw, which must be an http:// or https:// URL with a
// host; the error names it without its user information and query.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", redact(raw))
	}
	return u, nil
}

// parseHeaders adds the key=value pairs of list to h.
func parseHeaders(list string, h http.Header) error {
	for i, pair := range strings.Split(list, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("entry %d is not key=value", i+1)
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("entry %d: %q is not a header name", i+1, k)
		}
		// Percent-encoded as W3C Baggage values are: a '+' is a '+'.
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("the value of %q is not URL-encoded", k)
		}
		if !httpguts.ValidHeaderFieldValue(val) {
			return fmt.Errorf("the value of %q holds a byte a header cannot", k)
		}
		h.Set(k, val)
	}
	return nil
}
