// Package chat holds the rules of conversations and messages (M1–M3): who
// may create, read and write what, the per-conversation sequence, and the
// message path of DESIGN.md §3 — authorise, seal under the conversation's
// data key (D2), persist through the group-commit writer, then publish one
// pre-encoded frame to the broker. A message is acknowledged only after its
// transaction committed, so an acked message is never lost.
package chat

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/crypt"
	"github.com/parleyhq/parley/wire"
)

// Config bounds the message path.
type Config struct {
	MaxBatch     int // messages per group-commit transaction
	QueueLen     int // pending sends waiting for the writer
	MaxGroupSize int // members of a group, creator included
	// Isolation is the department isolation policy (Z7), from the
	// directory; nil checks nothing (tests and benchmarks of the bare
	// message path).
	Isolation parley.Isolation
}

// DefaultConfig returns production defaults.
func DefaultConfig() Config { return Config{MaxBatch: 512, QueueLen: 8192, MaxGroupSize: 1000} }

// Service implements conversations and messages. It is safe for concurrent
// use.
type Service struct {
	store  parley.Store
	env    *crypt.Envelope
	broker parley.Broker
	audit  parley.Auditor
	now    parley.Clock
	log    *slog.Logger
	cfg    Config
	w      *writer
	convs  convCache
	iso    isoCache
	mutes  muteCache // supervised.go
}

// New returns a Service and starts its writer; Close stops it.
func New(store parley.Store, env *crypt.Envelope, broker parley.Broker, auditor parley.Auditor,
	now parley.Clock, log *slog.Logger, cfg Config) *Service {
	s := &Service{store: store, env: env, broker: broker, audit: auditor, now: now, log: log, cfg: cfg}
	s.convs.m = map[parley.ConversationID]*parley.Conversation{}
	s.w = newWriter(s, cfg)
	return s
}

// Close stops accepting messages, commits everything already accepted and
// waits for the writer to finish (graceful shutdown flushes writes).
func (s *Service) Close() { s.w.close() }

// convCache keeps conversations (members, key epoch) read on the hot path.
// Membership does not change yet; when it does, the change invalidates.
type convCache struct {
	mu sync.RWMutex
	m  map[parley.ConversationID]*parley.Conversation
}

const convCacheMax = 50_000

func (c *convCache) get(id parley.ConversationID) *parley.Conversation {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[id]
}

func (c *convCache) put(conv *parley.Conversation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= convCacheMax {
		clear(c.m)
	}
	c.m[conv.ID] = conv
}

// Invalidate drops a conversation from the cache after a membership change.
func (s *Service) Invalidate(id parley.ConversationID) {
	s.convs.mu.Lock()
	delete(s.convs.m, id)
	s.convs.mu.Unlock()
}

// memberConversation returns the conversation if the actor is a member. A
// conversation the actor is not in is not_found, never forbidden: its
// existence is not revealed (Z6).
func (s *Service) memberConversation(ctx context.Context, a *parley.Actor, id parley.ConversationID) (*parley.Conversation, error) {
	// Built only on a miss: this runs for every message sent.
	notFound := func() error { return parley.Errorf(parley.CodeNotFound, "conversation not found") }
	if id == "" || len(id) > 64 {
		return nil, notFound()
	}
	c := s.convs.get(id)
	if c == nil {
		var err error
		c, err = s.store.ConversationByID(ctx, id)
		if parley.IsNotFound(err) {
			return nil, notFound()
		}
		if err != nil {
			return nil, err
		}
		s.convs.put(c)
	}
	if !c.HasMember(a.UserID) {
		return nil, notFound()
	}
	return c, nil
}

// CreateConversation creates a direct conversation (exactly one other
// member; an existing one between the pair is returned instead) or a group.
func (s *Service) CreateConversation(ctx context.Context, a *parley.Actor, typ parley.ConversationType,
	memberIDs []parley.UserID, title string) (*parley.Conversation, error) {
	if err := authz.Check(a, authz.PermConversationsCreate); err != nil {
		return nil, err
	}
	others := make([]parley.UserID, 0, len(memberIDs))
	for _, id := range memberIDs {
		if id != a.UserID && !slices.Contains(others, id) {
			others = append(others, id)
		}
	}
	if utf8.RuneCountInString(title) > 128 || !parley.CleanText(title) {
		return nil, parley.Errorf(parley.CodeInvalid, "title must be at most 128 characters without control characters")
	}
	switch typ {
	case parley.ConversationDirect:
		if len(others) != 1 {
			return nil, parley.Errorf(parley.CodeInvalid, "a direct conversation has exactly one other member")
		}
	case parley.ConversationGroup:
		if len(others) < 1 || len(others)+1 > s.cfg.MaxGroupSize {
			return nil, parley.Errorf(parley.CodeInvalid, "a group has 2 to %d members", s.cfg.MaxGroupSize)
		}
	default:
		return nil, parley.Errorf(parley.CodeInvalid, `type must be "direct" or "group"`)
	}
	members := make([]*parley.User, 0, len(others))
	for _, id := range others {
		u, err := s.store.UserByID(ctx, id)
		if parley.IsNotFound(err) || (err == nil && u.Status != parley.UserActive) {
			return nil, parley.Errorf(parley.CodeNotFound, "user %s not found", id)
		}
		if err != nil {
			return nil, err
		}
		members = append(members, u)
	}
	if err := s.checkNewMembers(ctx, a, members); err != nil { // Z7
		return nil, err
	}
	c := &parley.Conversation{
		ID: parley.NewConversationID(), Type: typ, Title: strings.TrimSpace(title),
		MemberIDs: append([]parley.UserID{a.UserID}, others...), CreatedBy: a.UserID,
		CreatedAt: s.now(), KeyEpoch: 1,
	}
	if typ == parley.ConversationDirect {
		pair := []string{string(a.UserID), string(others[0])}
		slices.Sort(pair)
		c.DirectKey = pair[0] + "|" + pair[1]
		if existing, err := s.store.DirectConversation(ctx, c.DirectKey); err == nil {
			return existing, nil
		} else if !parley.IsNotFound(err) {
			return nil, err
		}
	}
	key, _, err := s.env.NewConversationKey(ctx, c.ID, c.KeyEpoch, c.CreatedAt)
	if err != nil {
		return nil, parley.Internal("chat.CreateConversation", err)
	}
	if err := s.store.CreateConversation(ctx, c, key); err != nil {
		if parley.ErrorCode(err) == parley.CodeConflict && c.DirectKey != "" {
			return s.store.DirectConversation(ctx, c.DirectKey) // lost a race to the same pair
		}
		return nil, err
	}
	_ = s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username,
		Action: "conversation.create", Target: string(c.ID), SourceIP: a.SourceIP,
		Result: parley.ResultSuccess, Reason: string(typ)})
	return c, nil
}

// Conversations lists the actor's conversations, those that department
// isolation cut marked read-only (Z7).
func (s *Service) Conversations(ctx context.Context, a *parley.Actor) ([]*parley.Conversation, error) {
	if err := authz.Check(a, authz.PermConversationsRead); err != nil {
		return nil, err
	}
	list, err := s.store.ConversationsForUser(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if err := s.markReadOnly(ctx, list); err != nil {
		return nil, err
	}
	return list, nil
}

// Typing tells the other members that the actor is typing.
func (s *Service) Typing(ctx context.Context, a *parley.Actor, id parley.ConversationID) error {
	if err := authz.Check(a, authz.PermMessagesSend); err != nil {
		return err
	}
	c, err := s.memberConversation(ctx, a, id)
	if err != nil {
		return err
	}
	if err := s.checkWritable(ctx, c); err != nil { // typing is talking too (Z7)
		return err
	}
	if err := s.checkMuted(ctx, c, a.UserID); err != nil { // so is it for a muted member (Z3)
		return err
	}
	frame := encodeTyping(c.ID, a.UserID)
	recipients := slices.DeleteFunc(slices.Clone(c.MemberIDs), func(u parley.UserID) bool { return u == a.UserID })
	return s.broker.Publish(ctx, parley.Event{ConversationID: c.ID, Recipients: recipients, ExceptConn: a.ConnID, Frame: frame})
}

// MarkRead raises the actor's read marker and tells the members (M3 read
// receipts).
func (s *Service) MarkRead(ctx context.Context, a *parley.Actor, id parley.ConversationID, seq int64) error {
	if err := authz.Check(a, authz.PermMessagesRead); err != nil {
		return err
	}
	c, err := s.memberConversation(ctx, a, id)
	if err != nil {
		return err
	}
	fresh, err := s.store.ConversationByID(ctx, c.ID)
	if err != nil {
		return err
	}
	if seq < 0 || seq > fresh.LastSeq {
		return parley.Errorf(parley.CodeInvalid, "seq must be between 0 and %d", fresh.LastSeq)
	}
	if err := s.store.SetReadMarker(ctx, c.ID, a.UserID, seq); err != nil {
		return err
	}
	return s.broker.Publish(ctx, parley.Event{ConversationID: c.ID, Recipients: c.MemberIDs,
		ExceptConn: a.ConnID, Frame: encodeRead(c.ID, a.UserID, seq)})
}

// ReadMarkers returns every member's read position.
func (s *Service) ReadMarkers(ctx context.Context, a *parley.Actor, id parley.ConversationID) (map[parley.UserID]int64, error) {
	if err := authz.Check(a, authz.PermMessagesRead); err != nil {
		return nil, err
	}
	c, err := s.memberConversation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	return s.store.ReadMarkers(ctx, c.ID)
}

// ValidateClientMsgID allows 1–64 characters of [A-Za-z0-9._:-] (UUIDs,
// ULIDs, counters).
func ValidateClientMsgID(id string) error {
	if len(id) == 0 || len(id) > 64 {
		return parley.Errorf(parley.CodeInvalid, "client_msg_id must be 1 to 64 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return parley.Errorf(parley.CodeInvalid, "client_msg_id may contain only letters, digits, '.', '_', ':' and '-'")
		}
	}
	return nil
}

// validateBody accepts 1 to wire.MaxMessageLen bytes of UTF-8 without NUL.
func validateBody(body string) error {
	if len(body) == 0 || strings.TrimSpace(body) == "" {
		return parley.Errorf(parley.CodeInvalid, "body must not be empty")
	}
	if len(body) > wire.MaxMessageLen {
		return parley.Errorf(parley.CodeTooLarge, "body must be at most %d bytes", wire.MaxMessageLen)
	}
	if !utf8.ValidString(body) || strings.IndexByte(body, 0) >= 0 {
		return parley.Errorf(parley.CodeInvalid, "body must be valid UTF-8 without NUL")
	}
	return nil
}

var _ parley.ChatService = (*Service)(nil)
