package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"hash"
)

// Suite is a named set of algorithms (G1): an AEAD for data at rest and a
// hash for tokens and the audit chain. A suite is identified on disk by the
// version byte that starts everything Seal produces, so data sealed under an
// older suite stays readable while a deployment re-encrypts to a new one.
//
// Only the `intl` suite exists today. Adding `gm` means adding a Suite value
// with its own version byte (SM4-GCM, SM3) to suitesByVersion; Open already
// dispatches on the version byte.
type Suite struct {
	name    string
	version byte // first byte of every Seal output under this suite
	keySize int
	newAEAD func(key []byte) (cipher.AEAD, error)
	newHash func() hash.Hash
	sum     func(b []byte) []byte
}

// Intl is the international suite of G1: AES-256-GCM and SHA-256.
var Intl = &Suite{
	name:    "intl",
	version: 1,
	keySize: KeySize,
	newAEAD: newAESGCM,
	newHash: sha256.New,
	sum: func(b []byte) []byte {
		s := sha256.Sum256(b)
		return s[:]
	},
}

// suitesByVersion maps the version byte of sealed data to its suite.
var suitesByVersion = map[byte]*Suite{Intl.version: Intl}

// defaultSuite seals new data. It is a constant of the build today; a `gm`
// deployment would select its suite here, in one place.
var defaultSuite = Intl

// LookupSuite returns the suite with the given name ("intl").
func LookupSuite(name string) (*Suite, error) {
	for _, s := range suitesByVersion {
		if s.name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("crypt: unknown crypto suite %q", name)
}

// Name is the suite's name as used in configuration and the G1 inventory.
func (s *Suite) Name() string { return s.name }

// NewHash returns a new hash of the suite (SHA-256 for intl).
func (s *Suite) NewHash() hash.Hash { return s.newHash() }

// Sum returns the suite's hash of b.
func (s *Suite) Sum(b []byte) []byte { return s.sum(b) }

// HashSize is the length in bytes of the suite's hash.
func (s *Suite) HashSize() int { return s.newHash().Size() }

func newAESGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
