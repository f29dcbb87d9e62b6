package supervision

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// active returns the caller's grant if it may be used now: the caller's
// own, active, unexpired, and its department still within the caller's
// PermSupervise scope (a revoked role or a moved department ends the
// access at once, whatever the grant says). Refusals are audited.
func (s *Service) active(ctx context.Context, a *parley.Actor, action string, id parley.SupervisionID) (*parley.SupervisionGrant, *authz.Tree, error) {
	if err := authz.Check(a, authz.PermSupervise); err != nil {
		return nil, nil, err
	}
	g, err := s.own(ctx, a, action, id)
	if err != nil {
		return nil, nil, err
	}
	var refusal error
	switch st := g.StatusAt(s.now()); st {
	case parley.SupervisionActive:
	case parley.SupervisionPending:
		refusal = parley.Errorf(parley.CodeForbidden, "supervision is waiting for an auditor's approval")
	case parley.SupervisionExpired:
		refusal = parley.Errorf(parley.CodeForbidden, "supervision expired at %s; open a new one", g.ExpiresAt.UTC().Format(time.RFC3339))
	default:
		refusal = parley.Errorf(parley.CodeForbidden, "supervision is %s; open a new one", st)
	}
	if refusal != nil {
		return nil, nil, s.deny(ctx, a, action, string(g.ID), refusal)
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !authz.HoldsIn(a, authz.PermSupervise, g.DepartmentID, tree) {
		return nil, nil, s.deny(ctx, a, action, string(g.ID),
			parley.Errorf(parley.CodeForbidden, "you no longer supervise this department"))
	}
	return g, tree, nil
}

// covered checks that the conversation has a member in the grant's
// subtree now; any other conversation, real or not, is not_found (Z6).
func (s *Service) covered(ctx context.Context, a *parley.Actor, action string, g *parley.SupervisionGrant, conv parley.ConversationID) error {
	notFound := parley.Errorf(parley.CodeNotFound, "conversation not found")
	if conv == "" || len(conv) > 64 {
		return s.deny(ctx, a, action, truncate(string(conv)), notFound)
	}
	in, err := s.store.ConversationInSubtree(ctx, conv, g.DepartmentID)
	if err != nil {
		return err
	}
	if !in {
		return s.deny(ctx, a, action, string(conv), notFound)
	}
	return nil
}

// Conversations lists, by ID after the cursor, the conversations the grant
// covers: those with at least one member in its department subtree, as
// the tree and the members' departments are now. Who talks to whom is
// itself sensitive, so the listing is audited like a read.
func (s *Service) Conversations(ctx context.Context, a *parley.Actor, id parley.SupervisionID, after parley.ConversationID, limit int) (*parley.SupervisionGrant, []*parley.Conversation, error) {
	const action = "supervision.list"
	if limit == 0 {
		limit = defaultConversation
	}
	if limit < 1 || limit > maxPage {
		return nil, nil, parley.Errorf(parley.CodeInvalid, "limit must be 1 to %d", maxPage)
	}
	if len(after) > 64 {
		return nil, nil, parley.Errorf(parley.CodeInvalid, "after must be a conversation ID")
	}
	g, _, err := s.active(ctx, a, action, id)
	if err != nil {
		return nil, nil, err
	}
	if err := s.record(ctx, a, action, string(g.DepartmentID), describe(g)); err != nil {
		return nil, nil, err
	}
	convs, err := s.store.ConversationsInSubtree(ctx, g.DepartmentID, after, limit)
	if err != nil {
		return nil, nil, err
	}
	return g, convs, nil
}

// History reads a page of a covered conversation's history. Every call is
// one audit record naming the conversation, the grant and its reason,
// written before anything is read (D3).
func (s *Service) History(ctx context.Context, a *parley.Actor, id parley.SupervisionID, conv parley.ConversationID, afterSeq int64, limit int) (*parley.SupervisedHistory, error) {
	const action = "supervision.read"
	if afterSeq < 0 {
		return nil, parley.Errorf(parley.CodeInvalid, "after_seq must not be negative")
	}
	if limit == 0 {
		limit = defaultPage
	}
	if limit < 1 || limit > maxPage {
		return nil, parley.Errorf(parley.CodeInvalid, "limit must be 1 to %d", maxPage)
	}
	g, _, err := s.active(ctx, a, action, id)
	if err != nil {
		return nil, err
	}
	if err := s.covered(ctx, a, action, g, conv); err != nil {
		return nil, err
	}
	if err := s.record(ctx, a, action, string(conv), describe(g)+" after_seq="+strconv.FormatInt(afterSeq, 10)); err != nil {
		return nil, err
	}
	msgs, err := s.chat.SupervisedHistory(ctx, conv, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	return &parley.SupervisedHistory{Grant: g, ConversationID: conv, Messages: msgs}, nil
}

// Recall destroys a message's body in a covered conversation; the members
// are told. Any message of the conversation may be recalled: the grant
// covers the conversation, whoever wrote it.
func (s *Service) Recall(ctx context.Context, a *parley.Actor, id parley.SupervisionID, conv parley.ConversationID, seq int64) error {
	const action = "supervision.recall"
	g, _, err := s.active(ctx, a, action, id)
	if err != nil {
		return err
	}
	if err := s.covered(ctx, a, action, g, conv); err != nil {
		return err
	}
	// Look first, so that the trail does not record a recall of a
	// message that is not there; the store's recall is a
	// compare-and-set, so a race with another recall still ends in
	// conflict.
	target := string(conv) + "#" + strconv.FormatInt(seq, 10)
	if seq < 1 {
		return s.deny(ctx, a, action, target, parley.Errorf(parley.CodeNotFound, "message not found"))
	}
	msgs, err := s.store.MessagesAfter(ctx, conv, seq-1, 1)
	if err != nil {
		return err
	}
	switch {
	case len(msgs) == 0 || msgs[0].Seq != seq:
		return s.deny(ctx, a, action, target, parley.Errorf(parley.CodeNotFound, "message not found"))
	case !msgs[0].RecalledAt.IsZero():
		return s.deny(ctx, a, action, target, parley.Errorf(parley.CodeConflict, "message already recalled"))
	}
	if err := s.record(ctx, a, action, target, describe(g)+" sender="+string(msgs[0].SenderID)); err != nil {
		return err
	}
	_, err = s.chat.Recall(ctx, conv, seq, a.UserID)
	return err
}

// Mute stops a member from sending in a covered conversation for d. Only a
// member whose own department lies in the grant's subtree can be muted: a
// mute restrains a person, and the grant is over that department's people
// (an outsider in the conversation is their own department's business).
func (s *Service) Mute(ctx context.Context, a *parley.Actor, id parley.SupervisionID, conv parley.ConversationID,
	user parley.UserID, d time.Duration) (*parley.ConversationMute, error) {
	const action = "supervision.mute"
	if d < time.Minute || d > MaxMute || d%time.Minute != 0 {
		return nil, parley.Errorf(parley.CodeInvalid, "minutes must be 1 to %d", int(MaxMute/time.Minute))
	}
	g, tree, err := s.active(ctx, a, action, id)
	if err != nil {
		return nil, err
	}
	if err := s.covered(ctx, a, action, g, conv); err != nil {
		return nil, err
	}
	c, err := s.store.ConversationByID(ctx, conv)
	if err != nil {
		return nil, err
	}
	if !c.HasMember(user) {
		return nil, s.deny(ctx, a, action, string(conv), parley.Errorf(parley.CodeNotFound, "user is not a member of this conversation"))
	}
	u, err := s.store.UserByID(ctx, user)
	if err != nil {
		return nil, err
	}
	if !tree.Within(u.DepartmentID, g.DepartmentID) {
		return nil, s.deny(ctx, a, action, string(conv),
			parley.Errorf(parley.CodeForbidden, "only members of the supervised department can be muted"))
	}
	now := s.now()
	m := &parley.ConversationMute{ConversationID: conv, UserID: user, Until: now.Add(d), MutedBy: a.UserID, GrantID: g.ID, CreatedAt: now}
	if err := s.record(ctx, a, action, string(conv), describe(g)+" user="+string(user)+" until="+m.Until.UTC().Format(time.RFC3339)); err != nil {
		return nil, err
	}
	if err := s.chat.Mute(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}
