package parley

import (
	"context"
	"time"
)

// Supervised access (Z3, D3): a department admin opens a time-boxed grant
// over a department subtree, stating a business reason, and may then read
// the history of conversations that include members of that subtree and
// act on them (recall a message, mute a member). Every read and action is
// audited with the grant and its reason; the security admin's supervision
// policy may require an auditor's approval before a grant becomes active.

// SupervisionID identifies a supervision grant.
type SupervisionID string

const prefixSupervision = "sv_"

// NewSupervisionID returns a fresh random supervision grant ID.
func NewSupervisionID() SupervisionID { return SupervisionID(randomID(prefixSupervision)) }

// SupervisionStatus is the stored state of a grant. Expiry is not stored: a
// grant whose ExpiresAt has passed is expired whatever its status says
// (SupervisionGrant.StatusAt).
type SupervisionStatus string

const (
	SupervisionPending SupervisionStatus = "pending_approval"
	SupervisionActive  SupervisionStatus = "active"
	SupervisionDenied  SupervisionStatus = "denied"
	SupervisionEnded   SupervisionStatus = "ended"
	// SupervisionExpired is computed, never stored: an active grant past
	// ExpiresAt, or a request nobody decided within SupervisionPendingTTL.
	SupervisionExpired SupervisionStatus = "expired"
)

// SupervisionPendingTTL is how long a request may wait for approval; after
// that it lapses and must be made again (with its reason stated afresh).
const SupervisionPendingTTL = 24 * time.Hour

// SupervisionGrant is one supervised access to a department subtree.
type SupervisionGrant struct {
	ID           SupervisionID
	SupervisorID UserID
	DepartmentID DepartmentID // root of the supervised subtree
	Reason       string       // the stated business reason (D3)
	TicketID     string       // optional reference to a case or ticket
	Status       SupervisionStatus
	CreatedAt    time.Time
	// ExpiresAt ends the access. While a request is pending it is
	// CreatedAt plus the requested duration; approval restarts the same
	// duration from ApprovedAt.
	ExpiresAt  time.Time
	ApprovedBy UserID // empty unless approved
	ApprovedAt time.Time
	EndedAt    time.Time // ended early or denied; zero otherwise
}

// Duration is the length of access the grant was requested for.
func (g *SupervisionGrant) Duration() time.Duration {
	if g.Status == SupervisionPending || g.ApprovedAt.IsZero() {
		return g.ExpiresAt.Sub(g.CreatedAt)
	}
	return g.ExpiresAt.Sub(g.ApprovedAt)
}

// StatusAt returns the grant's effective status at now: the stored one, or
// expired once its time is up.
func (g *SupervisionGrant) StatusAt(now time.Time) SupervisionStatus {
	switch g.Status {
	case SupervisionActive:
		if !now.Before(g.ExpiresAt) {
			return SupervisionExpired
		}
	case SupervisionPending:
		if !now.Before(g.CreatedAt.Add(SupervisionPendingTTL)) {
			return SupervisionExpired
		}
	}
	return g.Status
}

// ConversationMute stops a member from sending in one conversation until
// Until (a supervision action, Z3).
type ConversationMute struct {
	ConversationID ConversationID
	UserID         UserID
	Until          time.Time
	MutedBy        UserID
	GrantID        SupervisionID // the supervision grant it was done under
	CreatedAt      time.Time
}

// SupervisionPolicy is the security admin's say over supervision (Z10):
// whether every grant needs an auditor's approval first.
type SupervisionPolicy struct {
	RequireApproval bool
}

// SupervisionRequest opens supervised access.
type SupervisionRequest struct {
	DepartmentID DepartmentID
	Reason       string
	TicketID     string
	// Duration of the access; zero means the default (one hour).
	Duration time.Duration
}

// SupervisedHistory is a page of a conversation's history read under a
// grant. Messages carry plaintext bodies except those recalled (empty) and
// end-to-end encrypted ones, which stay ciphertext (Z3: E2EE content stays
// unreadable).
type SupervisedHistory struct {
	Grant          *SupervisionGrant
	ConversationID ConversationID
	Messages       []*Message
}

// SupervisionStore keeps supervision grants, conversation mutes, and
// answers which conversations a department subtree takes part in.
type SupervisionStore interface {
	CreateSupervision(ctx context.Context, g *SupervisionGrant) error
	SupervisionByID(ctx context.Context, id SupervisionID) (*SupervisionGrant, error)
	// SupervisionsBySupervisor lists a supervisor's grants, newest first.
	SupervisionsBySupervisor(ctx context.Context, user UserID) ([]*SupervisionGrant, error)
	// SupervisionsByStatus lists grants with the stored status, oldest
	// first (the approval queue).
	SupervisionsByStatus(ctx context.Context, status SupervisionStatus) ([]*SupervisionGrant, error)
	// UpdateSupervision stores g's status, expiry, approval and end if the
	// stored status is still from (compare-and-set, so that two approvers
	// or an approval racing an end cannot both win): CodeConflict if it is
	// not, CodeNotFound if there is no such grant.
	UpdateSupervision(ctx context.Context, g *SupervisionGrant, from SupervisionStatus) error
	// ConversationsInSubtree returns up to limit conversations, ordered by
	// ID and after the cursor, that have at least one member whose
	// department is root or below it, with their members. The subtree is
	// read at the time of the call, so moved users and departments follow.
	ConversationsInSubtree(ctx context.Context, root DepartmentID, after ConversationID, limit int) ([]*Conversation, error)
	// ConversationInSubtree reports whether the conversation has a member
	// in root's subtree (false, not an error, for an unknown conversation).
	ConversationInSubtree(ctx context.Context, id ConversationID, root DepartmentID) (bool, error)
	// MuteMember creates or replaces the mute of m's member in m's
	// conversation.
	MuteMember(ctx context.Context, m *ConversationMute) error
	// ConversationMutes lists the conversation's mutes that last beyond
	// now.
	ConversationMutes(ctx context.Context, id ConversationID, now time.Time) ([]*ConversationMute, error)
	// RecallMessage destroys the sealed body of the message with seq and
	// records who recalled it and when; it returns the message as it now
	// is. CodeNotFound if there is none, CodeConflict if it was recalled
	// already.
	RecallMessage(ctx context.Context, id ConversationID, seq int64, by UserID, at time.Time) (*Message, error)
}

// SupervisedChat is what the supervision service needs of the chat service
// (DESIGN.md §2: services of one level meet through an interface here).
// It reads and acts without membership: only package supervision calls it,
// after checking an active grant, and it audits nothing itself.
type SupervisedChat interface {
	// SupervisedHistory returns messages with seq > afterSeq, ascending:
	// bodies opened, recalled ones empty, E2EE ones as ciphertext.
	SupervisedHistory(ctx context.Context, id ConversationID, afterSeq int64, limit int) ([]*Message, error)
	// Recall destroys a message's body and tells the members.
	Recall(ctx context.Context, id ConversationID, seq int64, by UserID) (*Message, error)
	// Mute stores the mute and applies it on this node at once.
	Mute(ctx context.Context, m *ConversationMute) error
}

// SupervisionService is supervised access (package supervision).
type SupervisionService interface {
	Open(ctx context.Context, a *Actor, req SupervisionRequest) (*SupervisionGrant, error)
	// Grants lists the actor's own grants.
	Grants(ctx context.Context, a *Actor) ([]*SupervisionGrant, error)
	// Pending lists the requests the actor may approve.
	Pending(ctx context.Context, a *Actor) ([]*SupervisionGrant, error)
	Approve(ctx context.Context, a *Actor, id SupervisionID) (*SupervisionGrant, error)
	Deny(ctx context.Context, a *Actor, id SupervisionID, reason string) (*SupervisionGrant, error)
	// End ends the actor's own grant early.
	End(ctx context.Context, a *Actor, id SupervisionID) error
	Conversations(ctx context.Context, a *Actor, id SupervisionID, after ConversationID, limit int) (*SupervisionGrant, []*Conversation, error)
	History(ctx context.Context, a *Actor, id SupervisionID, conv ConversationID, afterSeq int64, limit int) (*SupervisedHistory, error)
	Recall(ctx context.Context, a *Actor, id SupervisionID, conv ConversationID, seq int64) error
	Mute(ctx context.Context, a *Actor, id SupervisionID, conv ConversationID, user UserID, d time.Duration) (*ConversationMute, error)
	SupervisionPolicy(ctx context.Context, a *Actor) (*SupervisionPolicy, error)
	SetSupervisionPolicy(ctx context.Context, a *Actor, p *SupervisionPolicy) error
}
