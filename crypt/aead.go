package crypt

import (
	"crypto/rand"
	"errors"
)

// NonceSize is the GCM nonce size. Nonces are random: with 96 random bits the
// collision risk stays below 2^-32 for up to 2^32 messages under one key
// (NIST SP 800-38D §8.3), far above what one conversation epoch or one KEK
// seals; rotate keys long before that.
const NonceSize = 12

// headerSize is the version byte plus the nonce.
const headerSize = 1 + NonceSize

// Overhead is how many bytes Seal adds to a plaintext: version byte, nonce
// and the 16-byte GCM tag.
const Overhead = headerSize + 16

// ErrDecrypt is the one error Open returns for sealed data that is short,
// of an unknown version, tampered with, bound to other AAD or sealed under
// another key. One error for all of them leaves an attacker no oracle.
var ErrDecrypt = errors.New("crypt: decryption failed")

// Seal encrypts plaintext under k with the default suite (AES-256-GCM),
// authenticating aad (D2). The output is
//
//	version (1 byte) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)
//
// The version byte names the suite; it is not covered by the tag, but
// changing it selects another algorithm (or none), and so fails to open.
func Seal(k *Key, plaintext, aad []byte) ([]byte, error) {
	return defaultSuite.seal(k, plaintext, aad)
}

// Open decrypts what Seal produced, under any known suite. Every failure
// caused by the data is ErrDecrypt.
func Open(k *Key, sealed, aad []byte) ([]byte, error) {
	m, err := k.material()
	if err != nil {
		return nil, err
	}
	if len(sealed) < Overhead {
		return nil, ErrDecrypt
	}
	s := suitesByVersion[sealed[0]]
	if s == nil {
		return nil, ErrDecrypt
	}
	aead, err := s.newAEAD(m.b[:s.keySize])
	if err != nil {
		return nil, ErrDecrypt
	}
	out, err := aead.Open(nil, sealed[1:headerSize], sealed[headerSize:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

func (s *Suite) seal(k *Key, plaintext, aad []byte) ([]byte, error) {
	m, err := k.material()
	if err != nil {
		return nil, err
	}
	aead, err := s.newAEAD(m.b[:s.keySize])
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerSize, headerSize+len(plaintext)+aead.Overhead())
	out[0] = s.version
	nonce := out[1:headerSize]
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	return aead.Seal(out, nonce, plaintext, aad), nil
}

// sealRaw is the bare AEAD with a caller-chosen nonce, for known-answer tests
// of the primitive only. Never use a fixed nonce for real data.
func (s *Suite) sealRaw(key, nonce, plaintext, aad []byte) ([]byte, error) {
	aead, err := s.newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(nonce) != aead.NonceSize() {
		return nil, errors.New("crypt: bad nonce size")
	}
	return aead.Seal(nil, nonce, plaintext, aad), nil
}
