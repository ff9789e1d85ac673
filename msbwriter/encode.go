package msbwriter

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"
)

// TimeFormat is the layout of the "t" field: RFC 3339 in UTC with
// microseconds and a literal Z, as chrono's default sub-second rendering in
// microsandbox produces it (for example 2026-05-01T10:00:00.123456Z).
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// The values of Chunk.Source that microsandbox writes.
const (
	SourceStdout = "stdout"
	SourceStderr = "stderr"
	SourceOutput = "output"
	SourceSystem = "system"
)

// Chunk is one captured output chunk, one line of exec.log.
type Chunk struct {
	Time   time.Time // written in UTC with microseconds; zero means now (Sandbox.Exec only)
	Source string    // "stdout", "stderr", "output" or "system"; written as given
	Data   []byte    // raw output; a JSON string if valid UTF-8, else base64 with "e":"b64"
	ID     uint64    // session id, written only when HasID and Source is not "system"
	HasID  bool
}

// AppendLine appends the exec.log line of c, including its final '\n', to
// dst and returns the extended slice. Keys are in the order t, s, d, e, id.
func AppendLine(dst []byte, c Chunk) []byte {
	dst = append(dst, `{"t":"`...)
	dst = c.Time.UTC().AppendFormat(dst, TimeFormat)
	dst = append(dst, `","s":`...)
	dst = appendJSONString(dst, c.Source)
	dst = append(dst, `,"d":`...)
	if utf8.Valid(c.Data) {
		dst = appendJSONString(dst, c.Data)
	} else {
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, c.Data)
		dst = append(dst, `","e":"b64"`...)
	}
	if c.HasID && c.Source != SourceSystem {
		dst = append(dst, `,"id":`...)
		dst = strconv.AppendUint(dst, c.ID, 10)
	}
	return append(dst, "}\n"...)
}

// needsEscape marks the bytes that cannot appear raw inside a JSON string.
var needsEscape = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string. s must be valid UTF-8
// (bytes from 0x80 up are copied as they are). Runs of plain bytes are copied
// at once; '"', '\\', \n, \r, \t, \b, \f get their short escapes and other
// control characters \u00XX.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !needsEscape[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendEscape(dst, c)
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscape appends the JSON escape of the byte c.
func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
