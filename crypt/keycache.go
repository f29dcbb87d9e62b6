package crypt

import (
	"sync"
	"sync/atomic"

	"github.com/parleyhq/parley"
)

type cacheKey struct {
	conv  parley.ConversationID
	epoch int
}

type cacheEntry struct {
	key  *Key
	ref  atomic.Bool // CLOCK reference bit: set on a hit
	slot int         // index in keyCache.ring
}

// keyCache is a bounded map with CLOCK (second-chance) eviction. A hit takes
// only the read lock and sets a reference bit, so concurrent senders do not
// serialise on a mutex as they would with an LRU list, and it allocates
// nothing.
//
// Evicted keys are not wiped: a caller may still be sealing with one. The
// garbage collector reclaims them; Go offers no stronger guarantee (D6).
type keyCache struct {
	mu   sync.RWMutex
	m    map[cacheKey]*cacheEntry
	ring []cacheKey
	hand int
	max  int
}

func newKeyCache(max int) *keyCache {
	if max < 1 {
		max = 1
	}
	return &keyCache{m: make(map[cacheKey]*cacheEntry), max: max}
}

func (c *keyCache) get(k cacheKey) *Key {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	if e == nil {
		return nil
	}
	if !e.ref.Load() { // avoid writing a shared cache line on every hit
		e.ref.Store(true)
	}
	return e.key
}

// put caches key under k and returns the cached key. If k is already cached
// the existing key wins unless replace is set: two goroutines that both
// missed then hand out the same *Key.
func (c *keyCache) put(k cacheKey, key *Key, replace bool) *Key {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		if replace {
			e.key = key
		}
		e.ref.Store(true)
		return e.key
	}
	e := &cacheEntry{key: key}
	if len(c.ring) < c.max {
		e.slot = len(c.ring)
		c.ring = append(c.ring, k)
	} else {
		for { // second chance: clear reference bits until an unreferenced entry
			victim := c.m[c.ring[c.hand]]
			if !victim.ref.Load() {
				break
			}
			victim.ref.Store(false)
			c.hand = (c.hand + 1) % len(c.ring)
		}
		delete(c.m, c.ring[c.hand])
		e.slot = c.hand
		c.ring[c.hand] = k
		c.hand = (c.hand + 1) % len(c.ring)
	}
	c.m[k] = e
	return key
}

func (c *keyCache) remove(k cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return
	}
	delete(c.m, k)
	last := len(c.ring) - 1
	if e.slot != last {
		moved := c.ring[last]
		c.ring[e.slot] = moved
		c.m[moved].slot = e.slot
	}
	c.ring = c.ring[:last]
	if c.hand >= len(c.ring) {
		c.hand = 0
	}
}

func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
