package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits on untrusted input (I2).
const (
	MaxBodyBytes  = 64 << 10 // a REST request body
	MaxFrameBytes = 64 << 10 // a WebSocket frame
	MaxMessageLen = 16 << 10 // a message body, in bytes of UTF-8
	// MaxServerFrameBytes bounds a frame the server sends. JSON may escape
	// a body byte as six (\u003c), so a legal body can make a frame larger
	// than a client may send.
	MaxServerFrameBytes = 6*MaxMessageLen + 4<<10
)

// DecodeError says why bytes were refused. TooLarge tells oversize input
// (HTTP 413, close 1009) from other bad input (HTTP 400).
type DecodeError struct {
	Msg      string
	TooLarge bool
}

func (e *DecodeError) Error() string { return e.Msg }

// Decode strictly decodes one JSON object from r into v: at most limit
// bytes, valid UTF-8, no unknown fields, nothing after the object.
func Decode(r io.Reader, limit int64, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return &DecodeError{Msg: "could not read request body"}
	}
	if int64(len(data)) > limit {
		return &DecodeError{Msg: fmt.Sprintf("body larger than %d bytes", limit), TooLarge: true}
	}
	return DecodeBytes(data, v)
}

// DecodeBytes strictly decodes data into v (see Decode).
func DecodeBytes(data []byte, v any) error {
	if !utf8.Valid(data) {
		return &DecodeError{Msg: "body is not valid UTF-8"}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &DecodeError{Msg: "body is empty; send a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &DecodeError{Msg: describe(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &DecodeError{Msg: "unexpected data after the JSON object"}
	}
	return nil
}

// describe turns encoding/json's errors into messages that name the field
// but never echo the input (which could be a password).
func describe(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type.String())
		}
		return "body must be a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end"
	}
	msg := err.Error()
	if after, ok := bytes.CutPrefix([]byte(msg), []byte("json: unknown field ")); ok {
		return "unknown field " + string(after)
	}
	return "malformed JSON"
}
