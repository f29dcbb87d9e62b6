package crypt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

type gcmVector struct {
	Name, Key, IV, PT, AAD, CT, Tag string
}

func loadGCMVectors(t *testing.T) []gcmVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/aes_gcm_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Vectors []gcmVector }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return f.Vectors
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAESGCMKnownAnswer runs the published GCM test cases through the raw
// primitive, then through Open in Parley's envelope layout.
func TestAESGCMKnownAnswer(t *testing.T) {
	for _, v := range loadGCMVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			key, iv, pt, aad := unhex(t, v.Key), unhex(t, v.IV), unhex(t, v.PT), unhex(t, v.AAD)
			want := append(unhex(t, v.CT), unhex(t, v.Tag)...)
			got, err := Intl.sealRaw(key, iv, pt, aad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("ciphertext‖tag = %x, want %x", got, want)
			}
			k, err := KeyFromBytes(key)
			if err != nil {
				t.Fatal(err)
			}
			sealed := append(append([]byte{Intl.version}, iv...), want...)
			opened, err := Open(k, sealed, aad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(opened, pt) {
				t.Fatalf("Open = %x, want %x", opened, pt)
			}
		})
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := NewKey()
	tests := []struct {
		name    string
		pt, aad []byte
	}{
		{"empty", nil, nil},
		{"one byte", []byte{0}, []byte("a")},
		{"text", []byte("hello, parley"), []byte("context")},
		{"64 KiB", bytes.Repeat([]byte{0xab}, 64<<10), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := Seal(k, tt.pt, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != len(tt.pt)+Overhead || sealed[0] != 1 {
				t.Fatalf("layout: len %d version %d", len(sealed), sealed[0])
			}
			got, err := Open(k, sealed, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.pt) {
				t.Fatal("round trip mismatch")
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	k := NewKey()
	seen := map[string]bool{}
	for range 1000 {
		s, err := Seal(k, []byte("same"), nil)
		if err != nil {
			t.Fatal(err)
		}
		n := string(s[1:headerSize])
		if seen[n] {
			t.Fatal("nonce repeated")
		}
		seen[n] = true
	}
}

// TestOpenTamper flips every bit of a sealed value in turn, and the AAD, and
// expects the one generic error each time.
func TestOpenTamper(t *testing.T) {
	k := NewKey()
	aad := []byte("bound context")
	sealed, err := Seal(k, []byte("attack at dawn"), aad)
	if err != nil {
		t.Fatal(err)
	}
	region := func(i int) string {
		switch {
		case i == 0:
			return "version"
		case i < headerSize:
			return "nonce"
		case i < len(sealed)-16:
			return "ciphertext"
		default:
			return "tag"
		}
	}
	for i := range sealed {
		for bit := range 8 {
			bad := bytes.Clone(sealed)
			bad[i] ^= 1 << bit
			if _, err := Open(k, bad, aad); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("%s byte %d bit %d: err = %v", region(i), i, bit, err)
			}
		}
	}
	for i := range aad {
		bad := bytes.Clone(aad)
		bad[i] ^= 0x80
		if _, err := Open(k, sealed, bad); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("aad byte %d: err = %v", i, err)
		}
	}
	other := []struct {
		name   string
		key    *Key
		sealed []byte
		aad    []byte
	}{
		{"wrong key", NewKey(), sealed, aad},
		{"missing aad", k, sealed, nil},
		{"extra aad", k, sealed, append(bytes.Clone(aad), 0)},
		{"truncated", k, sealed[:len(sealed)-1], aad},
		{"header only", k, sealed[:headerSize], aad},
		{"empty", k, nil, aad},
		{"extended", k, append(bytes.Clone(sealed), 0), aad},
		{"unknown version", k, append([]byte{2}, sealed[1:]...), aad},
	}
	for _, tt := range other {
		if _, err := Open(tt.key, tt.sealed, tt.aad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

func TestSuiteLookup(t *testing.T) {
	s, err := LookupSuite("intl")
	if err != nil || s != Intl || s.Name() != "intl" || s.HashSize() != 32 {
		t.Fatalf("LookupSuite(intl) = %v, %v", s, err)
	}
	if _, err := LookupSuite("gm"); err == nil {
		t.Fatal("gm suite found; it is not implemented yet")
	}
	if got := hex.EncodeToString(Intl.Sum([]byte("abc"))); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("SHA-256(abc) = %s", got) // FIPS 180-2 Appendix B.1
	}
}
