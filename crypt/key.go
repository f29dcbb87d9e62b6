package crypt

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
)

// KeySize is the size in bytes of a symmetric key (AES-256).
const KeySize = 32

const redacted = "REDACTED"

// ErrInvalidKey is returned when a key is nil, wiped or of the wrong size.
var ErrInvalidKey = errors.New("crypt: invalid or wiped key")

// Key is a 256-bit symmetric key (DESIGN.md §4).
//
// It prints as REDACTED under every fmt verb, slog and encoding/json, so a key
// that reaches a log line or an API response by mistake leaks nothing (D6).
// When a Key sits in an unexported struct field, fmt cannot call its methods
// and prints it by reflection. The bytes are therefore reached through a
// function value, which reflection prints as an address only; a plain
// pointer would be dereferenced on fmt's bad-verb path (%s of such a
// struct). Copies of a Key share the bytes, so Zero wipes every copy.
type Key struct {
	m func() *keyMaterial
}

type keyMaterial struct {
	b      [KeySize]byte
	zeroed bool
}

// NewKey returns a fresh random key from crypto/rand.
func NewKey() *Key {
	m := new(keyMaterial)
	_, _ = rand.Read(m.b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return newKey(m)
}

func newKey(m *keyMaterial) *Key {
	return &Key{m: func() *keyMaterial { return m }}
}

// KeyFromBytes copies b into a new key. The caller should wipe b (D6).
func KeyFromBytes(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, ErrInvalidKey
	}
	m := new(keyMaterial)
	copy(m.b[:], b)
	return newKey(m), nil
}

// Bytes returns the key material itself, not a copy, so that wrapping it
// leaves no extra copy behind (D6). It is for key wrapping only: callers must
// not modify or retain it. It returns nil for a nil or wiped key.
func (k *Key) Bytes() []byte {
	m, err := k.material()
	if err != nil {
		return nil
	}
	return m.b[:]
}

// Equal reports in constant time whether k and o hold the same key. A nil or
// wiped key equals nothing.
func (k *Key) Equal(o *Key) bool {
	a, errA := k.material()
	b, errB := o.material()
	if errA != nil || errB != nil {
		return false
	}
	return subtle.ConstantTimeCompare(a.b[:], b.b[:]) == 1
}

// Zero wipes the key (D6). Every later use of it, or of a copy, fails with
// ErrInvalidKey rather than silently using an all-zero key.
func (k *Key) Zero() {
	if k == nil || k.m == nil {
		return
	}
	m := k.m()
	clear(m.b[:])
	m.zeroed = true
}

// material returns the key bytes, or ErrInvalidKey for a nil, empty or wiped
// key.
func (k *Key) material() (*keyMaterial, error) {
	if k == nil || k.m == nil {
		return nil, ErrInvalidKey
	}
	m := k.m()
	if m.zeroed {
		return nil, ErrInvalidKey
	}
	return m, nil
}

// String returns REDACTED.
func (Key) String() string { return redacted }

// GoString returns REDACTED (%#v).
func (Key) GoString() string { return redacted }

// Format prints REDACTED for every verb, including %x and %d, which would
// otherwise bypass String.
func (Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes slog print REDACTED.
func (Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns REDACTED, so text encoders and slog's TextHandler
// print the placeholder.
func (Key) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON returns "REDACTED". Keys are persisted only wrapped, never
// through JSON, so redacting here cannot lose a key that was meant to be kept.
func (Key) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// UnmarshalText refuses: a key never comes from a text encoding.
func (*Key) UnmarshalText([]byte) error {
	return errors.New("crypt: keys cannot be decoded from text")
}

// UnmarshalJSON refuses: a key never comes from JSON.
func (*Key) UnmarshalJSON([]byte) error {
	return errors.New("crypt: keys cannot be decoded from JSON")
}
