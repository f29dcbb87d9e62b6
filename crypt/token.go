package crypt

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// TokenSize is the number of random bytes in a bearer token: 256 bits.
const TokenSize = 32

// NewToken returns a new bearer token (session, API or setup token) and the
// hash to store in its place (A7): 256 random bits, base64url without
// padding, 43 characters.
func NewToken() (token string, hash []byte) {
	var b [TokenSize]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	clear(b[:])
	return token, HashToken(token)
}

// HashToken returns the hash under which a token is stored and looked up.
//
// A fast, unsalted hash is right here, unlike for passwords: a token carries
// 256 bits of entropy, so even a database thief with unlimited fast hashing
// cannot guess a preimage, and slow or salted hashing would only cost CPU on
// every request and make the indexed lookup by hash impossible. Salting buys
// nothing when every input is unique and random.
func HashToken(token string) []byte {
	return defaultSuite.Sum([]byte(token))
}

// ConstantTimeEqual reports whether a and b are equal, in time that depends
// only on their lengths. Use it for every comparison with a secret or a
// secret's hash.
func ConstantTimeEqual(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}
