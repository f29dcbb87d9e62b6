package client

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FuzzDecodeAPIError feeds arbitrary error answers (status, Retry-After,
// body) to the SDK's error decoding: it must never panic, always yield a
// code, and never a negative or unbounded retry hint.
func FuzzDecodeAPIError(f *testing.F) {
	f.Add(429, "30", []byte(`{"error":{"code":"rate_limited","message":"slow down"}}`))
	f.Add(503, "Wed, 21 Oct 2015 07:28:00 GMT", []byte(`<html>Bad gateway</html>`))
	f.Add(423, "-5", []byte(`{"error":{"code":123}}`))
	f.Add(500, "99999999999999999999", []byte(`{"error":null}`))
	f.Add(400, " 7 ", []byte(`{"error":{"code":"invalid","message":"\u202eevil"}}`))
	f.Add(418, "", []byte{0xff, 0xfe, '{'})
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		if status < 100 || status > 999 {
			status = 400 + (status%100+100)%100
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		if retryAfter != "" {
			resp.Header.Set("Retry-After", retryAfter)
		}
		e := decodeAPIError(resp)
		if e.Code == "" {
			t.Errorf("status %d body %q: no code", status, body)
		}
		if e.Status != status {
			t.Errorf("status %d became %d", status, e.Status)
		}
		if e.RetryAfter < 0 || e.RetryAfter > 366*24*time.Hour {
			t.Errorf("Retry-After %q gave %v", retryAfter, e.RetryAfter)
		}
		_ = e.Error()
	})
}

// FuzzParseRetryAfter: any header value gives a delay in [0, a year].
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"0", "120", "-1", "1e9", strconv.Itoa(1 << 62), "Fri, 27 Nov 2026 12:00:30 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if d := parseRetryAfter(v, now); d < 0 || d > 366*24*time.Hour {
			t.Errorf("parseRetryAfter(%q) = %v", v, d)
		}
	})
}
