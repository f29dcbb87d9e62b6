package crypt

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestEnvelopeNewAndDataKey(t *testing.T) {
	ctx := context.Background()
	kp, keys := newFakeKP(), newFakeKeys()
	env := NewEnvelope(kp, keys)
	ck, dek, err := env.NewConversationKey(ctx, "c_1", 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	if ck.ConversationID != "c_1" || ck.Epoch != 1 || ck.KEKID != "kek-1" || !ck.CreatedAt.Equal(t0) || len(ck.Wrapped) != KeySize+Overhead {
		t.Fatalf("stored key: %+v", ck)
	}
	keys.put(ck)
	// The creating node serves it from its cache.
	got, err := env.DataKey(ctx, "c_1", 1)
	if err != nil || got != dek || keys.reads.Load() != 0 {
		t.Fatalf("DataKey after create: %v, reads %d", err, keys.reads.Load())
	}
	// Another node unwraps once, then hits its cache.
	other := NewEnvelope(kp, keys)
	for range 3 {
		got, err = other.DataKey(ctx, "c_1", 1)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(dek) {
			t.Fatal("unwrapped key differs")
		}
	}
	if keys.reads.Load() != 1 || kp.unwraps.Load() != 1 {
		t.Fatalf("reads %d unwraps %d, want 1 each", keys.reads.Load(), kp.unwraps.Load())
	}
}

func TestDataKeyErrors(t *testing.T) {
	ctx := context.Background()
	kp, keys := newFakeKP(), newFakeKeys()
	ck, _, err := NewEnvelope(kp, keys).NewConversationKey(ctx, "c_a", 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	keys.put(ck)
	env := NewEnvelope(kp, keys)

	if _, err := env.DataKey(ctx, "c_missing", 1); !parley.IsNotFound(err) {
		t.Errorf("missing key: err = %v, want not_found", err)
	}
	// A wrapped key moved to another conversation or epoch fails to unwrap.
	moved := *ck
	moved.ConversationID = "c_b"
	keys.put(&moved)
	if _, err := env.DataKey(ctx, "c_b", 1); err == nil {
		t.Error("wrapped key moved to another conversation unwrapped")
	}
	moved = *ck
	moved.Epoch = 2
	keys.put(&moved)
	if _, err := env.DataKey(ctx, "c_a", 2); err == nil {
		t.Error("wrapped key moved to another epoch unwrapped")
	}
	// A store returning the wrong row is caught before unwrapping.
	keys.mu.Lock()
	keys.m[cacheKey{"c_c", 1}] = ck
	keys.mu.Unlock()
	if _, err := env.DataKey(ctx, "c_c", 1); err == nil {
		t.Error("mismatched row accepted")
	}
	if _, _, err := env.NewConversationKey(ctx, "c_x", -1, t0); err == nil {
		t.Error("negative epoch accepted")
	}
	if _, _, err := env.NewConversationKey(ctx, "", 1, t0); err == nil {
		t.Error("empty conversation accepted")
	}
}

func TestRewrapAfterKEKRotation(t *testing.T) {
	ctx := context.Background()
	kp, keys := newFakeKP(), newFakeKeys()
	env := NewEnvelope(kp, keys)
	ck, dek, err := env.NewConversationKey(ctx, "c_1", 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	kp.rotate()
	re, err := env.Rewrap(ctx, ck)
	if err != nil {
		t.Fatal(err)
	}
	if re.KEKID != "kek-2" || ck.KEKID != "kek-1" {
		t.Fatalf("KEK IDs: new %s old %s", re.KEKID, ck.KEKID)
	}
	keys.put(re)
	got, err := NewEnvelope(kp, keys).DataKey(ctx, "c_1", 1)
	if err != nil || !got.Equal(dek) {
		t.Fatalf("after rewrap: %v", err)
	}
}

func TestForget(t *testing.T) {
	ctx := context.Background()
	kp, keys := newFakeKP(), newFakeKeys()
	env := NewEnvelope(kp, keys)
	if _, _, err := env.NewConversationKey(ctx, "c_1", 1, t0); err != nil {
		t.Fatal(err)
	}
	env.Forget("c_1", 1) // e.g. the store refused the key
	if _, err := env.DataKey(ctx, "c_1", 1); !parley.IsNotFound(err) {
		t.Fatalf("forgotten key still served: %v", err)
	}
	env.Forget("c_1", 1) // idempotent
}

func TestKeyCacheEviction(t *testing.T) {
	c := newKeyCache(4)
	hot := cacheKey{"hot", 0}
	c.put(hot, NewKey(), false)
	for i := range 100 {
		if c.get(hot) == nil {
			t.Fatalf("hot entry evicted at %d", i)
		}
		c.put(cacheKey{parley.ConversationID(fmt.Sprint(i)), i}, NewKey(), false)
		if n := c.len(); n > 4 {
			t.Fatalf("cache holds %d > 4", n)
		}
	}
	for i := 90; i < 100; i++ {
		c.remove(cacheKey{parley.ConversationID(fmt.Sprint(i)), i})
	}
	c.remove(hot)
	if c.len() != 0 || len(c.ring) != 0 {
		t.Fatalf("after removals: len %d ring %d", c.len(), len(c.ring))
	}
	// Existing entries win over a concurrent second unwrap.
	k1, k2 := NewKey(), NewKey()
	if c.put(hot, k1, false) != k1 || c.put(hot, k2, false) != k1 || c.put(hot, k2, true) != k2 {
		t.Fatal("put precedence")
	}
}

// TestDataKeyConcurrent hammers a small cache from many goroutines; run
// with -race. Every (conversation, epoch) must always yield its own key.
func TestDataKeyConcurrent(t *testing.T) {
	ctx := context.Background()
	kp, keys := newFakeKP(), newFakeKeys()
	creator := NewEnvelope(kp, keys)
	const convs = 40
	want := make([]*Key, convs)
	for i := range convs {
		ck, dek, err := creator.NewConversationKey(ctx, parley.ConversationID(fmt.Sprint("c_", i)), 1, t0)
		if err != nil {
			t.Fatal(err)
		}
		keys.put(ck)
		want[i] = dek
	}
	env := NewEnvelope(kp, keys)
	env.cache = newKeyCache(16) // smaller than the working set: evictions race with hits
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 500 {
				i := (g*7 + n*13) % convs
				k, err := env.DataKey(ctx, parley.ConversationID(fmt.Sprint("c_", i)), 1)
				if err != nil {
					t.Error(err)
					return
				}
				if !k.Equal(want[i]) {
					t.Errorf("conversation %d got another key", i)
					return
				}
				if n%50 == 0 {
					env.Forget(parley.ConversationID(fmt.Sprint("c_", i)), 1)
				}
			}
		}()
	}
	wg.Wait()
	if env.cache.len() > 16 {
		t.Fatalf("cache grew to %d", env.cache.len())
	}
}

func TestDataKeyCacheHitAllocs(t *testing.T) {
	ctx := context.Background()
	kp, keys := newFakeKP(), newFakeKeys()
	env := NewEnvelope(kp, keys)
	if _, _, err := env.NewConversationKey(ctx, "c_hot", 1, t0); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := env.DataKey(ctx, "c_hot", 1); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("cache hit allocates %v times", allocs)
	}
}
