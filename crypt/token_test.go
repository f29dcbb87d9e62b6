package crypt

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, hash := NewToken()
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != TokenSize || len(tok) != 43 {
			t.Fatalf("token %q: %d bytes, %v", tok, len(raw), err)
		}
		want := sha256.Sum256([]byte(tok))
		if !ConstantTimeEqual(hash, want[:]) || !ConstantTimeEqual(HashToken(tok), hash) {
			t.Fatal("hash is not SHA-256 of the token")
		}
		if seen[tok] {
			t.Fatal("token repeated")
		}
		seen[tok] = true
	}
}

func TestConstantTimeEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := ConstantTimeEqual([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("%q vs %q = %v", tt.a, tt.b, got)
		}
	}
}
