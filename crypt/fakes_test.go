package crypt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/parleyhq/parley"
)

// fakeKP is a parley.KeyProvider for logic tests: KEKs in a map, wrapping
// with Seal and binding the KEK ID, like kms/keyring does.
type fakeKP struct {
	mu      sync.Mutex
	keks    map[string]*Key
	current string
	unwraps atomic.Int64
}

func newFakeKP() *fakeKP {
	kp := &fakeKP{keks: map[string]*Key{}}
	kp.rotate()
	return kp
}

func (kp *fakeKP) rotate() string {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	id := fmt.Sprintf("kek-%d", len(kp.keks)+1)
	kp.keks[id] = NewKey()
	kp.current = id
	return id
}

func (kp *fakeKP) Wrap(_ context.Context, dek, aad []byte) (string, []byte, error) {
	kp.mu.Lock()
	id, k := kp.current, kp.keks[kp.current]
	kp.mu.Unlock()
	w, err := Seal(k, dek, append([]byte(id+"|"), aad...))
	return id, w, err
}

func (kp *fakeKP) Unwrap(_ context.Context, id string, wrapped, aad []byte) ([]byte, error) {
	kp.unwraps.Add(1)
	kp.mu.Lock()
	k := kp.keks[id]
	kp.mu.Unlock()
	if k == nil {
		return nil, errors.New("unknown kek")
	}
	return Open(k, wrapped, append([]byte(id+"|"), aad...))
}

// fakeKeys is a ConversationKeyGetter backed by a map.
type fakeKeys struct {
	mu    sync.Mutex
	m     map[cacheKey]*parley.ConversationKey
	reads atomic.Int64
}

func newFakeKeys() *fakeKeys { return &fakeKeys{m: map[cacheKey]*parley.ConversationKey{}} }

func (f *fakeKeys) put(ck *parley.ConversationKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[cacheKey{ck.ConversationID, ck.Epoch}] = ck
}

func (f *fakeKeys) ConversationKey(_ context.Context, id parley.ConversationID, epoch int) (*parley.ConversationKey, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	ck, ok := f.m[cacheKey{id, epoch}]
	if !ok {
		return nil, parley.ErrNotFound
	}
	return ck, nil
}
