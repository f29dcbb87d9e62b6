package chat

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
	"github.com/parleyhq/parley/wire"
)

// Supervised access (Z3) on the chat side: reading a conversation and acting
// on it without being a member, for package supervision (through
// parley.SupervisedChat). That package checks the grant and writes the
// audit record before it calls here; these methods check and audit nothing
// themselves, which is why they are not part of parley.ChatService and the
// transport never sees them.

var _ parley.SupervisedChat = (*Service)(nil)

// SupervisedHistory returns up to limit messages with seq > afterSeq,
// ascending, opened as openMessage says: recalled ones empty, end-to-end
// encrypted ones as ciphertext.
func (s *Service) SupervisedHistory(ctx context.Context, id parley.ConversationID, afterSeq int64, limit int) ([]*parley.Message, error) {
	if afterSeq < 0 {
		return nil, parley.Errorf(parley.CodeInvalid, "after_seq must not be negative")
	}
	if limit == 0 {
		limit = DefaultPage
	}
	if limit < 1 || limit > MaxPage {
		return nil, parley.Errorf(parley.CodeInvalid, "limit must be 1 to %d", MaxPage)
	}
	msgs, err := s.store.MessagesAfter(ctx, id, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := s.openMessage(ctx, m); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// openMessage turns a stored message into what a reader gets. A recalled
// message has neither body nor ciphertext any more. An end-to-end encrypted
// one keeps its ciphertext in Sealed and gets no Body: the server has no key
// for it, and this is the one place that would otherwise open it, for
// members and supervisors alike (Z3: E2EE content stays unreadable). Any
// other body is opened with the conversation's data key of its epoch.
func (s *Service) openMessage(ctx context.Context, m *parley.Message) error {
	switch {
	case !m.RecalledAt.IsZero():
		m.Body, m.Sealed = nil, nil
		return nil
	case m.E2EE:
		m.Body = nil
		return nil
	}
	dek, err := s.env.DataKey(ctx, m.ConversationID, m.KeyEpoch)
	if err != nil {
		return parley.Internal("chat.openMessage", err)
	}
	body, err := crypt.OpenMessage(dek, m)
	if err != nil {
		// A ciphertext that does not open under its own row's AAD was
		// moved or altered behind the server's back (D2, D7).
		s.log.ErrorContext(ctx, "message failed authentication", "conversation", m.ConversationID, "seq", m.Seq)
		return parley.Internal("chat.openMessage", errors.New("message failed authentication"))
	}
	m.Body, m.Sealed = body, nil
	return nil
}

// Recall destroys the body of the message with seq (the store overwrites
// its ciphertext) and tells the members' connections, so that clients drop
// what they show. The frame is not a message event (Seq 0 on the event):
// it needs no ordering against messages and never triggers a gap fill.
func (s *Service) Recall(ctx context.Context, id parley.ConversationID, seq int64, by parley.UserID) (*parley.Message, error) {
	if seq < 1 {
		return nil, parley.Errorf(parley.CodeNotFound, "message not found")
	}
	c, err := s.store.ConversationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	m, err := s.store.RecallMessage(ctx, c.ID, seq, by, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.broker.Publish(ctx, parley.Event{ConversationID: c.ID, Recipients: c.MemberIDs, Frame: encodeRecalled(c.ID, seq)}); err != nil {
		// The body is gone whatever happens here; a client that missed
		// the frame sees the recall in its next history or sync.
		s.log.WarnContext(ctx, "recall not announced", "conversation", c.ID, "seq", seq, "err", err)
	}
	return m, nil
}

func encodeRecalled(c parley.ConversationID, seq int64) []byte {
	b, _ := json.Marshal(wire.RecalledFrame{Type: wire.FrameRecalled, ConversationID: string(c), Seq: seq})
	return b
}

// Mute stores a member's mute and applies it on this node at once; other
// nodes apply it within muteTTL.
func (s *Service) Mute(ctx context.Context, m *parley.ConversationMute) error {
	if err := s.store.MuteMember(ctx, m); err != nil {
		return err
	}
	s.mutes.drop(m.ConversationID)
	return nil
}

// muteTTL bounds how long a node acts on an old list of a conversation's
// mutes after a change made on another node.
const muteTTL = 5 * time.Second

// muteCacheMax bounds the cache; on overflow it starts over.
const muteCacheMax = 50_000

// muteCache keeps each conversation's current mutes off the database: the
// send path asks on every message, a conversation's mutes change rarely.
type muteCache struct {
	mu sync.RWMutex
	m  map[parley.ConversationID]muteEntry
}

type muteEntry struct {
	at    time.Time
	until map[parley.UserID]time.Time // nil: nobody muted
}

func (c *muteCache) drop(id parley.ConversationID) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// mutedUntil returns when the user's mute in the conversation ends, or
// the zero time if they are not muted at now.
func (s *Service) mutedUntil(ctx context.Context, id parley.ConversationID, user parley.UserID, now time.Time) (time.Time, error) {
	s.mutes.mu.RLock()
	e, ok := s.mutes.m[id]
	s.mutes.mu.RUnlock()
	if !ok || now.Sub(e.at) > muteTTL || now.Before(e.at) {
		list, err := s.store.ConversationMutes(ctx, id, now)
		if err != nil {
			return time.Time{}, err
		}
		e = muteEntry{at: now}
		for _, m := range list {
			if e.until == nil {
				e.until = make(map[parley.UserID]time.Time, len(list))
			}
			e.until[m.UserID] = m.Until
		}
		s.mutes.mu.Lock()
		if s.mutes.m == nil || len(s.mutes.m) >= muteCacheMax {
			s.mutes.m = make(map[parley.ConversationID]muteEntry)
		}
		s.mutes.m[id] = e
		s.mutes.mu.Unlock()
	}
	if until := e.until[user]; now.Before(until) {
		return until, nil
	}
	return time.Time{}, nil
}

// checkMuted refuses a send (or typing) by a member muted in the
// conversation (a supervision action, Z3).
func (s *Service) checkMuted(ctx context.Context, c *parley.Conversation, user parley.UserID) error {
	until, err := s.mutedUntil(ctx, c.ID, user, s.now())
	if err != nil {
		return err
	}
	if !until.IsZero() {
		return parley.Errorf(parley.CodeForbidden, "you are muted until %s in this conversation",
			until.UTC().Format(time.RFC3339))
	}
	return nil
}

// MemberRemoved tells this node's cache and the remaining members' devices
// that user left the conversation (offboarding, Z8). The removal is already
// stored; a failed announcement is logged, and a client that missed it sees
// the new member list at its next conversation list.
func (s *Service) MemberRemoved(ctx context.Context, id parley.ConversationID, user parley.UserID) {
	s.Invalidate(id)
	c, err := s.store.ConversationByID(ctx, id)
	if err != nil {
		s.log.WarnContext(ctx, "member removal not announced", "conversation", id, "err", err)
		return
	}
	frame, _ := json.Marshal(wire.MemberRemovedFrame{Type: wire.FrameMemberRemoved, ConversationID: string(id), UserID: string(user)})
	if len(c.MemberIDs) == 0 {
		return
	}
	if err := s.broker.Publish(ctx, parley.Event{ConversationID: id, Recipients: c.MemberIDs, Frame: frame}); err != nil {
		s.log.WarnContext(ctx, "member removal not announced", "conversation", id, "err", err)
	}
}
