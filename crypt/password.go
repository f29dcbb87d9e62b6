package crypt

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"runtime"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters (A7).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultArgon2Params is the OWASP Password Storage Cheat Sheet minimum for
// argon2id: 19 MiB, 2 passes, 1 lane; 16-byte salt and 32-byte output.
var DefaultArgon2Params = Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// PasswordHasher hashes and verifies passwords with argon2id (A7).
//
// Each hash holds Memory KiB for its duration, so at most maxConcurrent run
// at once: a login flood then queues (and gives up with its request context)
// instead of exhausting memory. A waiting call honours ctx; a running one
// cannot be interrupted. It is safe for concurrent use.
type PasswordHasher struct {
	params    Argon2Params
	sem       chan struct{}
	dummySalt []byte
}

// NewPasswordHasher returns a hasher that hashes with p and runs at most
// maxConcurrent hashes at once (2×GOMAXPROCS if maxConcurrent ≤ 0). Invalid
// parameters make Hash fail rather than panic here.
func NewPasswordHasher(p Argon2Params, maxConcurrent int) *PasswordHasher {
	if maxConcurrent <= 0 {
		maxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	salt := make([]byte, max(p.SaltLen, 16))
	_, _ = rand.Read(salt)
	return &PasswordHasher{params: p, sem: make(chan struct{}, maxConcurrent), dummySalt: salt}
}

// Params returns the parameters new hashes use.
func (h *PasswordHasher) Params() Argon2Params { return h.params }

// Hash returns the PHC string of password with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64,
// as the reference implementation writes it).
func (h *PasswordHasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.params.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, h.params.SaltLen)
	_, _ = rand.Read(salt)
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	defer clear(key)
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether password matches encoded. The parameters come from
// encoded, so hashes made under older parameters still verify; needsRehash
// tells the caller to store a fresh Hash after a successful login. A
// malformed or out-of-bounds encoded string is an error, never a panic.
func (h *PasswordHasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	p, salt, want, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, false, err
	}
	defer clear(got)
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, ok && p != h.params, nil
}

// DummyVerify spends the work of a Verify under the current parameters and
// discards the result. Call it when the user does not exist, so that the
// response time does not tell whether an account exists.
func (h *PasswordHasher) DummyVerify(ctx context.Context, password string) {
	p := h.params
	if p.validate() != nil {
		p = DefaultArgon2Params
	}
	got, err := h.derive(ctx, password, h.dummySalt[:p.SaltLen], p)
	if err == nil {
		var want [64]byte
		_ = subtle.ConstantTimeCompare(got, want[:len(got)])
		clear(got)
	}
}

// derive runs argon2id under the concurrency limit.
func (h *PasswordHasher) derive(ctx context.Context, password string, salt []byte, p Argon2Params) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.sem }()
	pw := []byte(password)
	defer clear(pw) // D6; the caller's string cannot be wiped
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}
