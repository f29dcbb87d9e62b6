package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDecodeRefusesWhatEncodingJSONAllows: duplicate keys (also differing
// only in case, or spelled with escapes), a top level other than an object,
// NUL in strings and deep nesting are refused; look-alikes that are not
// duplicates are not (found by the securitytest suite, I2).
func TestDecodeRefusesWhatEncodingJSONAllows(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{`{"client_msg_id":"a","body":"b"}`, true},
		{`{"client_msg_id":"a","body":"b","body":"c"}`, false},
		{`{"client_msg_id":"a","body":"b","BODY":"c"}`, false},
		{`{"client_msg_id":"a","b\u006fdy":"b","body":"c"}`, false},
		{`{"client_msg_id":"a\"body\":","body":"c"}`, true},
		{`{"client_msg_id":"a\\u0000","body":"c"}`, true}, // an escaped backslash, then text
		{`{"client_msg_id":"a","body":"x\u0000y"}`, false},
		{`null`, false},
		{` null `, false},
	} {
		var v SendRequest
		var f ClientFrame
		var err error
		if strings.Contains(c.in, "cursors") {
			err = DecodeBytes([]byte(c.in), &f)
		} else {
			err = DecodeBytes([]byte(c.in), &v)
		}
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.in, err, c.ok)
		}
	}
	// Nesting matters where a body carries raw JSON (passkey ceremonies).
	var raw struct {
		C json.RawMessage `json:"c"`
	}
	for depth, ok := range map[int]bool{8: true, 40: false} {
		in := `{"c":` + strings.Repeat(`[`, depth) + strings.Repeat(`]`, depth) + `}`
		if err := DecodeBytes([]byte(in), &raw); (err == nil) != ok {
			t.Errorf("nesting %d: err = %v, want ok=%v", depth, err, ok)
		}
	}
	var f ClientFrame
	if err := DecodeBytes([]byte(`{"type":"sync","cursors":{"c_a":1,"c_b":2}}`), &f); err != nil {
		t.Errorf("distinct cursor keys refused: %v", err)
	}
	if err := DecodeBytes([]byte(`{"type":"sync","cursors":{"c_a":1,"c_a":2}}`), &f); err == nil {
		t.Error("a repeated cursor key accepted")
	}
}
