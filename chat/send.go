package chat

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/crypt"
)

// Pending is a message accepted for the writer. Wait returns once its
// transaction committed (or failed).
type Pending struct {
	pm         parley.PendingMessage
	dek        *crypt.Key
	recipients []parley.UserID
	origin     string
	done       chan struct{}
	err        error
}

// Wait blocks until the message is durable or failed. A cancelled ctx stops
// the wait, not the write.
func (p *Pending) Wait(ctx context.Context) (*parley.SendResult, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, parley.Errorf(parley.CodeUnavailable, "gave up waiting for the message to be stored")
	}
	if p.err != nil {
		return nil, p.err
	}
	m := p.pm.Msg
	m.Sealed = nil
	return &parley.SendResult{Message: &m, Duplicate: p.pm.Duplicate}, nil
}

// ClientMsgID returns the client's ID of the pending message.
func (p *Pending) ClientMsgID() string { return p.pm.Msg.ClientMsgID }

// Submit checks and queues a message for the group-commit writer and
// returns at once. Callers that must keep order (one WebSocket connection)
// submit in order and wait in order.
func (s *Service) Submit(ctx context.Context, a *parley.Actor, id parley.ConversationID, clientMsgID, body string) (parley.PendingSend, error) {
	if err := authz.Check(a, authz.PermMessagesSend); err != nil {
		return nil, err
	}
	if err := ValidateClientMsgID(clientMsgID); err != nil {
		return nil, err
	}
	if err := validateBody(body); err != nil {
		return nil, err
	}
	c, err := s.memberConversation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	// Isolation makes a conversation read-only, never deletes it (Z7).
	if err := s.checkWritable(ctx, c); err != nil {
		return nil, err
	}
	if err := s.checkMuted(ctx, c, a.UserID); err != nil { // supervision (Z3)
		return nil, err
	}
	dek, err := s.env.DataKey(ctx, c.ID, c.KeyEpoch)
	if err != nil {
		return nil, parley.Internal("chat.Submit", err)
	}
	p := &Pending{
		pm: parley.PendingMessage{
			Msg: parley.Message{
				ID: parley.NewMessageID(), ConversationID: c.ID, SenderID: a.UserID,
				ClientMsgID: clientMsgID, SentAt: s.now().Truncate(time.Microsecond), KeyEpoch: c.KeyEpoch,
			},
			Body: []byte(body),
		},
		dek: dek, recipients: c.MemberIDs, origin: a.ConnID, done: make(chan struct{}),
	}
	if err := s.w.submit(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Send stores a message and returns it once durable (REST).
func (s *Service) Send(ctx context.Context, a *parley.Actor, id parley.ConversationID, clientMsgID, body string) (*parley.SendResult, error) {
	p, err := s.Submit(ctx, a, id, clientMsgID, body)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// History pages.
const (
	DefaultPage = 50
	MaxPage     = 200
)

// History returns messages with seq > afterSeq, ascending; with before > 0,
// the newest page of messages below it instead (cursor pagination, M3).
func (s *Service) History(ctx context.Context, a *parley.Actor, id parley.ConversationID, afterSeq, before int64, limit int) ([]*parley.Message, error) {
	if err := authz.Check(a, authz.PermMessagesRead); err != nil {
		return nil, err
	}
	if afterSeq < 0 || before < 0 {
		return nil, parley.Errorf(parley.CodeInvalid, "after_seq and before_seq must not be negative")
	}
	if limit == 0 {
		limit = DefaultPage
	}
	if limit < 1 || limit > MaxPage {
		return nil, parley.Errorf(parley.CodeInvalid, "limit must be 1 to %d", MaxPage)
	}
	c, err := s.memberConversation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	var msgs []*parley.Message
	if before > 0 {
		msgs, err = s.store.MessagesBefore(ctx, c.ID, before, limit)
	} else {
		msgs, err = s.store.MessagesAfter(ctx, c.ID, afterSeq, limit)
	}
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := s.openMessage(ctx, m); err != nil { // supervised.go: recalled, E2EE
			return nil, err
		}
	}
	return msgs, nil
}
