package crypt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
)

// ConversationKeyGetter reads a stored, wrapped data key. parley.Store
// satisfies it.
type ConversationKeyGetter interface {
	ConversationKey(ctx context.Context, id parley.ConversationID, epoch int) (*parley.ConversationKey, error)
}

// DefaultKeyCacheSize bounds the data-key cache: a few tens of thousands of
// active conversation epochs fit in a few megabytes.
const DefaultKeyCacheSize = 32768

// Envelope manages per-conversation data keys (DEKs) under the KEKs of a
// parley.KeyProvider (D2, DESIGN.md §4). A DEK is unwrapped once and then
// served from a bounded in-memory cache, because DataKey runs for every
// message sent and read. It is safe for concurrent use.
type Envelope struct {
	kp    parley.KeyProvider
	keys  ConversationKeyGetter
	cache *keyCache
}

// NewEnvelope returns an Envelope that wraps with kp and reads wrapped keys
// through keys.
func NewEnvelope(kp parley.KeyProvider, keys ConversationKeyGetter) *Envelope {
	return &Envelope{kp: kp, keys: keys, cache: newKeyCache(DefaultKeyCacheSize)}
}

var errBadEpoch = errors.New("crypt: key epoch must not be negative")

// NewConversationKey creates a random DEK for epoch of conv and wraps it under
// the provider's current KEK, binding conversation and epoch. It returns the
// form to store and the plaintext key, which is also cached.
//
// If storing the returned key fails (say another node created the same
// epoch first), call Forget(conv, epoch) so this node does not keep sealing
// with a key nobody else has.
func (e *Envelope) NewConversationKey(ctx context.Context, conv parley.ConversationID, epoch int, now time.Time) (*parley.ConversationKey, *Key, error) {
	if conv == "" {
		return nil, nil, errors.New("crypt: conversation ID is empty")
	}
	if epoch < 0 {
		return nil, nil, errBadEpoch
	}
	dek := NewKey()
	kekID, wrapped, err := e.kp.Wrap(ctx, dek.Bytes(), dataKeyAAD(conv, epoch))
	if err != nil {
		dek.Zero()
		return nil, nil, fmt.Errorf("crypt: wrap data key: %w", err)
	}
	ck := &parley.ConversationKey{
		ConversationID: conv,
		Epoch:          epoch,
		KEKID:          kekID,
		Wrapped:        wrapped,
		CreatedAt:      now.UTC(),
	}
	e.cache.put(cacheKey{conv, epoch}, dek, true)
	return ck, dek, nil
}

// DataKey returns the DEK of epoch of conv: from the cache when present (no
// allocation), otherwise read, unwrapped and cached. The returned key is
// shared: callers must not Zero it.
func (e *Envelope) DataKey(ctx context.Context, conv parley.ConversationID, epoch int) (*Key, error) {
	ck := cacheKey{conv, epoch}
	if k := e.cache.get(ck); k != nil {
		return k, nil
	}
	stored, err := e.keys.ConversationKey(ctx, conv, epoch)
	if err != nil {
		return nil, err // keeps the store's not_found for callers
	}
	dek, err := e.unwrap(ctx, conv, epoch, stored)
	if err != nil {
		return nil, err
	}
	return e.cache.put(ck, dek, false), nil
}

// Rewrap returns a copy of ck wrapped under the provider's current KEK, for
// KEK rotation without downtime (D2): the DEK, and so every message, stays
// the same; only its wrapping changes.
func (e *Envelope) Rewrap(ctx context.Context, ck *parley.ConversationKey) (*parley.ConversationKey, error) {
	dek, err := e.unwrap(ctx, ck.ConversationID, ck.Epoch, ck)
	if err != nil {
		return nil, err
	}
	defer dek.Zero()
	kekID, wrapped, err := e.kp.Wrap(ctx, dek.Bytes(), dataKeyAAD(ck.ConversationID, ck.Epoch))
	if err != nil {
		return nil, fmt.Errorf("crypt: wrap data key: %w", err)
	}
	out := *ck
	out.KEKID, out.Wrapped = kekID, wrapped
	return &out, nil
}

// Forget drops the cached DEK of epoch of conv: after a failed store of a
// new key, or when a conversation's keys are destroyed (D5). Keys already
// handed out are not wiped, since a concurrent Seal may still be using them.
func (e *Envelope) Forget(conv parley.ConversationID, epoch int) {
	e.cache.remove(cacheKey{conv, epoch})
}

func (e *Envelope) unwrap(ctx context.Context, conv parley.ConversationID, epoch int, ck *parley.ConversationKey) (*Key, error) {
	if ck == nil || ck.ConversationID != conv || ck.Epoch != epoch {
		return nil, fmt.Errorf("crypt: stored data key does not match %s epoch %d", conv, epoch)
	}
	raw, err := e.kp.Unwrap(ctx, ck.KEKID, ck.Wrapped, dataKeyAAD(conv, epoch))
	if err != nil {
		return nil, fmt.Errorf("crypt: unwrap data key of %s epoch %d: %w", conv, epoch, err)
	}
	defer clear(raw) // D6: the copy in dek is the only one left
	dek, err := KeyFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("crypt: unwrapped data key of %s epoch %d: %w", conv, epoch, err)
	}
	return dek, nil
}
