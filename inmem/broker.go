// Package inmem holds the single-node implementations of the interfaces
// that a cluster backs with NATS: for now the event broker. One process, no
// network, same contract, so whole-system tests need no mocks.
package inmem

import (
	"context"
	"sync"

	"github.com/parleyhq/parley"
)

// Broker delivers every published event synchronously to every subscriber.
// Publish order is delivery order, which keeps message frames in sequence
// order. Subscribers must not block (the hub only enqueues).
type Broker struct {
	mu   sync.RWMutex
	subs map[int]func(parley.Event)
	next int
}

// NewBroker returns an empty broker.
func NewBroker() *Broker { return &Broker{subs: map[int]func(parley.Event){}} }

// Publish hands ev to every subscriber.
func (b *Broker) Publish(_ context.Context, ev parley.Event) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(ev)
	}
	return nil
}

// Subscribe registers fn until cancel is called.
func (b *Broker) Subscribe(fn func(parley.Event)) (cancel func()) {
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = fn
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}

// Ping always succeeds: the broker is in the process.
func (b *Broker) Ping(context.Context) error { return nil }

var _ parley.Broker = (*Broker)(nil)
