// Package keyring is the local keyring file: the key-encryption-key (KEK)
// provider of a single-node Parley (D2, DESIGN.md §4). It implements
// parley.KeyProvider.
//
// KEKs live only in this file, never in the database and never in backups:
// a stolen database or backup is ciphertext whose keys are elsewhere. The
// file is JSON, mode 0600, written atomically; Open refuses a file that group
// or others can read. Rotate adds a new current KEK and keeps the old ones,
// so data keys wrapped earlier still unwrap until they are re-wrapped
// (crypt.Envelope.Rewrap) — rotation needs no downtime.
//
// Several processes sharing one file (the server and `parleyd keys`) see a
// rotation made by another only after Reload.
package keyring

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
)

// labelKEK separates KEK wrapping from every other use of crypt.Seal.
const labelKEK = "parley/kek/v1"

// ErrUnknownKEK is returned by Unwrap for a KEK ID the keyring does not hold.
var ErrUnknownKEK = errors.New("keyring: unknown key-encryption key")

// Keyring holds the KEKs of one keyring file. It is safe for concurrent use.
type Keyring struct {
	path string

	mu      sync.RWMutex
	current string
	keys    map[string]*kek
	order   []*kek // file order, oldest first
}

type kek struct {
	id        string
	createdAt time.Time
	key       *crypt.Key
}

// KeyInfo describes one KEK without its material, for `parleyd keys list`.
type KeyInfo struct {
	ID        string
	CreatedAt time.Time
	Current   bool
}

var _ parley.KeyProvider = (*Keyring)(nil)

// Path is the keyring file.
func (r *Keyring) Path() string { return r.path }

// CurrentID is the ID of the KEK that Wrap uses.
func (r *Keyring) CurrentID() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current
}

// List describes the KEKs, oldest first.
func (r *Keyring) List() []KeyInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]KeyInfo, len(r.order))
	for i, k := range r.order {
		out[i] = KeyInfo{ID: k.id, CreatedAt: k.createdAt, Current: k.id == r.current}
	}
	return out
}

// Wrap encrypts dek under the current KEK with AES-256-GCM, binding the KEK
// ID and aad.
func (r *Keyring) Wrap(_ context.Context, dek, aad []byte) (string, []byte, error) {
	r.mu.RLock() // held while sealing so that Close cannot wipe the key mid-use
	defer r.mu.RUnlock()
	k := r.keys[r.current]
	if k == nil {
		return "", nil, errors.New("keyring: closed")
	}
	wrapped, err := crypt.Seal(k.key, dek, kekAAD(k.id, aad))
	if err != nil {
		return "", nil, fmt.Errorf("keyring: wrap: %w", err)
	}
	return k.id, wrapped, nil
}

// Unwrap decrypts a key wrapped by Wrap under kekID with aad. The caller
// should wipe the result after use (D6).
func (r *Keyring) Unwrap(_ context.Context, kekID string, wrapped, aad []byte) ([]byte, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k := r.keys[kekID]
	if k == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownKEK, kekID)
	}
	dek, err := crypt.Open(k.key, wrapped, kekAAD(k.id, aad))
	if err != nil {
		return nil, fmt.Errorf("keyring: unwrap under %s: %w", kekID, err)
	}
	return dek, nil
}

// Rotate adds a new KEK, makes it current and writes the file. Old KEKs stay
// to unwrap what they wrapped. If writing fails, nothing changes.
func (r *Keyring) Rotate(now time.Time) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		return "", errors.New("keyring: closed")
	}
	k := newKEK(len(r.order)+1, now)
	order := append(r.order[:len(r.order):len(r.order)], k)
	if err := writeFile(r.path, order, k.id, false); err != nil {
		k.key.Zero()
		return "", err
	}
	r.order, r.current = order, k.id
	r.keys[k.id] = k
	return k.id, nil
}

// Reload re-reads the file, picking up a rotation made by another process.
// The file must still hold every KEK this keyring holds: a KEK that vanished
// from the file would leave data undecryptable, so Reload refuses.
func (r *Keyring) Reload() error {
	fresh, err := Open(r.path)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, k := range r.keys {
		if nk := fresh.keys[id]; nk == nil || !nk.key.Equal(k.key) {
			fresh.Close()
			return fmt.Errorf("keyring: reload: %s lost or changed key %s", r.path, id)
		}
	}
	for _, k := range r.order {
		k.key.Zero()
	}
	r.current, r.keys, r.order = fresh.current, fresh.keys, fresh.order
	return nil
}

// Close wipes the KEKs from memory (D6). The keyring is unusable afterwards.
func (r *Keyring) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.order {
		k.key.Zero()
	}
	r.keys, r.order, r.current = nil, nil, ""
	return nil
}

// newKEK makes KEK number n: ID kek-<n>-<64 random bits in hex>. The number
// tells people the order; the random part keeps IDs unique across keyrings.
func newKEK(n int, now time.Time) *kek {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails (Go 1.24+)
	return &kek{
		id:        fmt.Sprintf("kek-%d-%s", n, hex.EncodeToString(rnd[:])),
		createdAt: now.UTC().Truncate(time.Second),
		key:       crypt.NewKey(),
	}
}

// kekAAD is u32be-length-prefixed "parley/kek/v1", KEK ID and the caller's
// aad: a wrapped key presented under another KEK ID fails to open.
func kekAAD(id string, aad []byte) []byte {
	b := make([]byte, 0, 12+len(labelKEK)+len(id)+len(aad))
	for _, f := range [][]byte{[]byte(labelKEK), []byte(id), aad} {
		// IDs and AAD are far below 4 GiB; a longer field would wrap its
		// length prefix and make two AADs collide: a programming error.
		fl := len(f)
		if fl > math.MaxUint32 {
			panic("keyring: AAD field longer than 4 GiB")
		}
		b = binary.BigEndian.AppendUint32(b, uint32(fl))
		b = append(b, f...)
	}
	return b
}
