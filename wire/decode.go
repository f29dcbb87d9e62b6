package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
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
	return checkStructure(data)
}

// maxDepth bounds the nesting of a body or frame; none of the API's needs
// more than a handful of levels.
const maxDepth = 32

// checkStructure refuses what encoding/json lets through but a strict
// reading must not (I2), in data already known to be valid JSON:
//   - a top-level value other than an object ("null" decodes into a struct
//     as nothing at all, and a request of all zero values is then served);
//   - an object that repeats a key. encoding/json keeps the last value and
//     matches names case-insensitively, so {"body":"a","BODY":"b"} would
//     store "b" while a proxy, WAF or audit hook that reads the first "body"
//     sees "a": a parser differential that smuggles a value past checks.
//     Keys are compared the way encoding/json matches them, case-folded;
//   - a NUL character (\u0000) in any string: no field needs one, and
//     PostgreSQL refuses it in text (a 500 instead of a 400);
//   - nesting deeper than maxDepth.
func checkStructure(data []byte) error {
	i := 0
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	if i == len(data) || data[i] != '{' {
		return &DecodeError{Msg: "body must be a JSON object"}
	}
	type scope struct {
		object  bool
		wantKey bool
		keys    map[string]struct{}
	}
	var stack []*scope
	for ; i < len(data); i++ {
		switch c := data[i]; c {
		case '{', '[':
			if len(stack) == maxDepth {
				return &DecodeError{Msg: fmt.Sprintf("JSON nested deeper than %d levels", maxDepth)}
			}
			stack = append(stack, &scope{object: c == '{', wantKey: c == '{'})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := stack[len(stack)-1]; top.object {
				top.wantKey = true
			}
		case '"':
			start := i
			for i++; data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
					if data[i] == 'u' && string(data[i+1:i+5]) == "0000" {
						return &DecodeError{Msg: "strings must not contain NUL (\\u0000)"}
					}
				}
			}
			top := stack[len(stack)-1]
			if !top.object || !top.wantKey {
				continue
			}
			top.wantKey = false
			key := string(data[start+1 : i])
			if strings.IndexByte(key, '\\') >= 0 {
				if err := json.Unmarshal(data[start:i+1], &key); err != nil {
					return &DecodeError{Msg: "malformed JSON"}
				}
			}
			folded := strings.ToLower(strings.ToUpper(key))
			if top.keys == nil {
				top.keys = map[string]struct{}{}
			}
			if _, dup := top.keys[folded]; dup {
				return &DecodeError{Msg: fmt.Sprintf("field %q given more than once", truncateKey(key))}
			}
			top.keys[folded] = struct{}{}
		}
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func truncateKey(k string) string {
	if len(k) > 32 {
		for n := 32; n > 0; n-- {
			if utf8.RuneStart(k[n]) {
				return k[:n] + "…"
			}
		}
	}
	return k
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
