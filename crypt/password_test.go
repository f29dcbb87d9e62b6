package crypt

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// fastParams keep logic tests quick; the known-answer tests use real costs.
var fastParams = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func loadJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

// TestArgon2idReferenceVectors checks x/crypto's argon2id and our PHC
// encoding against the reference implementation's own test suite.
func TestArgon2idReferenceVectors(t *testing.T) {
	var f struct {
		Vectors []struct {
			T, M                     uint32
			P                        uint8
			Password, Salt, Hex, PHC string
		}
	}
	loadJSON(t, "testdata/argon2id_reference.json", &f)
	h := NewPasswordHasher(DefaultArgon2Params, 1)
	for _, v := range f.Vectors {
		t.Run(v.PHC[:32], func(t *testing.T) {
			if v.M > 65536 && testing.Short() {
				t.Skip("256 MiB vector skipped in -short")
			}
			key := argon2.IDKey([]byte(v.Password), []byte(v.Salt), v.T, v.M, v.P, 32)
			if got := hex.EncodeToString(key); got != v.Hex {
				t.Fatalf("IDKey = %s, want %s", got, v.Hex)
			}
			p := Argon2Params{Memory: v.M, Time: v.T, Threads: v.P, SaltLen: uint32(len(v.Salt)), KeyLen: 32}
			if got := encodePHC(p, []byte(v.Salt), key); got != v.PHC {
				t.Fatalf("encodePHC = %s, want %s", got, v.PHC)
			}
			ok, rehash, err := h.Verify(context.Background(), v.PHC, v.Password)
			if err != nil || !ok || !rehash {
				t.Fatalf("Verify = %v, %v, %v; want ok and needsRehash", ok, rehash, err)
			}
			if ok, _, _ := h.Verify(context.Background(), v.PHC, v.Password+"x"); ok {
				t.Fatal("wrong password verified")
			}
		})
	}
}

// TestArgon2idVectors checks hashes made by the reference CLI at our own
// parameters, including the OWASP default.
func TestArgon2idVectors(t *testing.T) {
	var f struct {
		Vectors []struct{ Name, Password, PHC string }
	}
	loadJSON(t, "testdata/argon2id_vectors.json", &f)
	h := NewPasswordHasher(DefaultArgon2Params, 1)
	for _, v := range f.Vectors {
		ok, rehash, err := h.Verify(context.Background(), v.PHC, v.Password)
		wantRehash := !strings.Contains(v.PHC, "m=19456,t=2,p=1$")
		if err != nil || !ok || rehash != wantRehash {
			t.Errorf("%s: Verify = %v, %v, %v", v.Name, ok, rehash, err)
		}
	}
}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewPasswordHasher(fastParams, 0)
	enc, err := h.Hash(ctx, "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(enc, "=$") {
		t.Fatalf("PHC string %q", enc)
	}
	enc2, _ := h.Hash(ctx, "hunter2")
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name, password string
		hasher         *PasswordHasher
		ok, rehash     bool
	}{
		{"right", "hunter2", h, true, false},
		{"wrong", "hunter3", h, false, false},
		{"empty", "", h, false, false},
		{"params changed", "hunter2", NewPasswordHasher(Argon2Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1), true, true},
		{"wrong with params changed", "x", NewPasswordHasher(DefaultArgon2Params, 1), false, false},
	}
	for _, tt := range tests {
		ok, rehash, err := tt.hasher.Verify(ctx, enc, tt.password)
		if err != nil || ok != tt.ok || rehash != tt.rehash {
			t.Errorf("%s: Verify = %v, %v, %v", tt.name, ok, rehash, err)
		}
	}
}

func TestHashRejectsBadParams(t *testing.T) {
	for _, p := range []Argon2Params{
		{},
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 2 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		if _, err := NewPasswordHasher(p, 1).Hash(context.Background(), "x"); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%+v: err = %v", p, err)
		}
	}
}

func TestParsePHC(t *testing.T) {
	const good = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	if _, _, _, err := parsePHC(good); err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"empty":            "",
		"argon2i":          strings.Replace(good, "argon2id", "argon2i", 1),
		"argon2d":          strings.Replace(good, "argon2id", "argon2d", 1),
		"old version":      strings.Replace(good, "v=19", "v=16", 1),
		"no version":       strings.Replace(good, "$v=19", "", 1),
		"memory 2 GiB":     strings.Replace(good, "m=256", "m=2097152", 1),
		"memory too small": strings.Replace(good, "m=256", "m=4", 1),
		"memory overflow":  strings.Replace(good, "m=256", "m=99999999999", 1),
		"time 11":          strings.Replace(good, "t=2", "t=11", 1),
		"time 0":           strings.Replace(good, "t=2", "t=0", 1),
		"lanes 17":         strings.Replace(good, "p=1", "p=17", 1),
		"lanes 300":        strings.Replace(good, "p=1", "p=300", 1),
		"lanes 0":          strings.Replace(good, "p=1", "p=0", 1),
		"leading zero":     strings.Replace(good, "m=256", "m=0256", 1),
		"plus sign":        strings.Replace(good, "m=256", "m=+256", 1),
		"reordered":        strings.Replace(good, "m=256,t=2", "t=2,m=256", 1),
		"extra param":      strings.Replace(good, "p=1", "p=1,k=2", 1),
		"salt too short":   strings.Replace(good, "c29tZXNhbHQ", "c29t", 1),
		"no salt":          strings.Replace(good, "c29tZXNhbHQ", "", 1),
		"padded base64":    strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHQ=", 1),
		"non-canonical":    strings.Replace(good, "c29tZXNhbHQ", "c29tZXNhbHR", 1),
		"newline":          strings.Replace(good, "c29tZX", "c29t\nZX", 1),
		"url alphabet":     strings.Replace(good, "/", "_", 1),
		"hash too short":   "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQ",
		"trailing field":   good + "$",
		"leading junk":     "x" + good,
		"too long":         good + strings.Repeat("A", 300),
	}
	h := NewPasswordHasher(fastParams, 1)
	for name, s := range bad {
		if _, _, _, err := parsePHC(s); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: err = %v", name, err)
		}
		ok, _, err := h.Verify(context.Background(), s, "password")
		if ok || err == nil {
			t.Errorf("%s: Verify ok=%v err=%v", name, ok, err)
		}
		if err != nil && strings.Contains(err.Error(), "c29t") {
			t.Errorf("%s: error reveals the hash: %v", name, err)
		}
	}
}

// TestHasherConcurrencyLimit checks that a caller waiting for a hashing
// slot gives up when its context ends.
func TestHasherConcurrencyLimit(t *testing.T) {
	h := NewPasswordHasher(fastParams, 1)
	h.sem <- struct{}{} // occupy the only slot
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "x")
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash while full = %v, want context.Canceled", err)
	}
	if _, _, err := h.Verify(ctx, "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with cancelled ctx = %v", err)
	}
	h.DummyVerify(ctx, "x") // returns without a slot
	<-h.sem
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatalf("after release: %v", err)
	}
	if cap(NewPasswordHasher(fastParams, 0).sem) < 2 {
		t.Fatal("default concurrency below 2")
	}
}

func TestDummyVerify(t *testing.T) {
	NewPasswordHasher(fastParams, 1).DummyVerify(context.Background(), "anything")
	NewPasswordHasher(Argon2Params{}, 1).DummyVerify(context.Background(), "falls back to defaults")
}
