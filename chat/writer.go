package chat

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
)

// writer is the group commit of DESIGN.md §3: one goroutine takes every
// message waiting, writes them in one transaction (one fsync for many
// messages), then publishes them in sequence order and wakes the senders.
// There is no timer: while one batch commits the next one gathers, so a
// lone message goes out at once and a burst shares its fsyncs.
type writer struct {
	s      *Service
	in     chan *Pending
	max    int
	mu     sync.RWMutex // guards closed against submit racing close
	closed bool
	done   chan struct{}
}

func newWriter(s *Service, cfg Config) *writer {
	w := &writer{s: s, in: make(chan *Pending, cfg.QueueLen), max: cfg.MaxBatch, done: make(chan struct{})}
	go w.run()
	return w
}

func (w *writer) submit(ctx context.Context, p *Pending) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return parley.Errorf(parley.CodeUnavailable, "server is shutting down")
	}
	select {
	case w.in <- p:
		return nil
	case <-ctx.Done():
		return parley.Errorf(parley.CodeUnavailable, "message queue is full")
	}
}

func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *writer) run() {
	defer close(w.done)
	batch := make([]*Pending, 0, w.max)
	pms := make([]*parley.PendingMessage, 0, w.max)
	for p := range w.in {
		batch = append(batch[:0], p)
	gather:
		for len(batch) < w.max {
			select {
			case q, ok := <-w.in:
				if !ok {
					break gather
				}
				batch = append(batch, q)
			default:
				break gather
			}
		}
		pms = pms[:0]
		for _, b := range batch {
			pms = append(pms, &b.pm)
		}
		w.commit(batch, pms)
	}
}

func (w *writer) commit(batch []*Pending, pms []*parley.PendingMessage) {
	// Not the senders' contexts: one sender giving up must not abort the
	// others' messages.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys := make(map[parley.ConversationID]*crypt.Key, 4)
	for _, b := range batch {
		keys[b.pm.Msg.ConversationID] = b.dek
	}
	seal := func(m *parley.Message, body []byte) error {
		return crypt.SealMessage(keys[m.ConversationID], m, body)
	}
	err := w.s.store.AppendMessages(ctx, pms, seal)
	for _, b := range batch {
		switch {
		case err != nil:
			b.err = err
		case b.pm.Err != nil:
			b.err = b.pm.Err
		case !b.pm.Duplicate:
			// Published after the commit and in seq order: a frame never
			// announces a message that could still be lost.
			ev := parley.Event{ConversationID: b.pm.Msg.ConversationID, Seq: b.pm.Msg.Seq,
				Recipients: b.recipients, ExceptConn: b.origin, Frame: EncodeMessage(&b.pm.Msg, b.pm.Body)}
			if perr := w.s.broker.Publish(ctx, ev); perr != nil {
				// Stored but not pushed: clients catch up through sync.
				w.s.log.Warn("publish failed", "conversation", ev.ConversationID, "seq", ev.Seq, "err", perr)
			}
		}
		if err != nil {
			w.s.log.Error("group commit failed", "messages", len(batch), "err", err)
		}
		clear(b.pm.Body) // D6: plaintext does not outlive its use
		close(b.done)
	}
}
