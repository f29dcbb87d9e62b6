package crypt

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzKey is fixed so that the seed corpus can hold valid sealed values.
var fuzzKey = func() *Key {
	k, _ := KeyFromBytes(bytes.Repeat([]byte{0x42}, KeySize))
	return k
}()

// FuzzOpen feeds arbitrary sealed bytes and AAD to Open: it must never
// panic, and may only succeed on data that really was sealed under the key
// with that AAD (then resealing round-trips).
func FuzzOpen(f *testing.F) {
	valid, _ := Seal(fuzzKey, []byte("hello"), []byte("aad"))
	f.Add(valid, []byte("aad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, []byte(nil))
	f.Add(bytes.Repeat([]byte{1}, Overhead), []byte("x"))
	f.Fuzz(func(t *testing.T, sealed, aad []byte) {
		pt, err := Open(fuzzKey, sealed, aad)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(pt) != len(sealed)-Overhead {
			t.Fatalf("opened %d bytes from %d", len(pt), len(sealed))
		}
		again, err := Seal(fuzzKey, pt, aad)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := Open(fuzzKey, again, aad); err != nil || !bytes.Equal(back, pt) {
			t.Fatal("reseal does not round-trip")
		}
	})
}

// FuzzParsePHC feeds arbitrary strings to the password-hash parser: it must
// never panic, and what it accepts must be in bounds and re-encode exactly.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$cGFybGV5LWthdC1zYWx0IQ$AYAffmbt1A0BslPDe0QAdxNoqWxTrL/5nApkWqxeh6A")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$$")
	f.Add("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if p.validate() != nil || int(p.SaltLen) != len(salt) || int(p.KeyLen) != len(key) {
			t.Fatalf("accepted out-of-bounds %+v", p)
		}
		if got := encodePHC(p, salt, key); got != s {
			t.Fatalf("accepted non-canonical %q (canonical %q)", s, got)
		}
	})
}
