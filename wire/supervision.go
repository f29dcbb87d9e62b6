package wire

import "time"

// SupervisionRequest opens supervised access to a department subtree (Z3,
// D3). Reason is required: 10 to 500 printable characters. DurationMinutes
// is 1 to 480 (8 hours), 60 if absent.
type SupervisionRequest struct {
	DepartmentID    string `json:"department_id"`
	Reason          string `json:"reason"`
	TicketID        string `json:"ticket_id,omitempty"`
	DurationMinutes int    `json:"duration_minutes,omitempty"`
}

// SupervisionOpened answers a supervision request: "active" at once, or
// "pending_approval" when policy wants an auditor's approval first.
type SupervisionOpened struct {
	SupervisionID string    `json:"supervision_id"`
	Status        string    `json:"status"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// Supervision is one supervision grant. Status is pending_approval,
// active, denied, ended or expired.
type Supervision struct {
	SupervisionID string     `json:"supervision_id"`
	SupervisorID  string     `json:"supervisor_id"`
	DepartmentID  string     `json:"department_id"`
	Reason        string     `json:"reason"`
	TicketID      string     `json:"ticket_id,omitempty"`
	Status        string     `json:"status"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	ApprovedBy    string     `json:"approved_by,omitempty"`
	ApprovedAt    *time.Time `json:"approved_at,omitempty"`
	EndedAt       *time.Time `json:"ended_at,omitempty"`
}

// SupervisionList answers GET /supervision and GET /supervision/pending.
type SupervisionList struct {
	Supervisions []Supervision `json:"supervisions"`
}

// SupervisionDenyRequest denies a pending request, optionally saying why.
type SupervisionDenyRequest struct {
	Reason string `json:"reason,omitempty"`
}

// SupervisedConversationList lists the conversations a grant covers:
// those with at least one member in the supervised department subtree.
type SupervisedConversationList struct {
	Supervised    bool           `json:"supervised"` // always true: this is supervised access
	SupervisionID string         `json:"supervision_id"`
	Conversations []Conversation `json:"conversations"`
}

// SupervisedMessage is a message read under supervision. A recalled
// message has an empty body; an end-to-end encrypted one (E2EE true) has
// no body, only Ciphertext (standard base64), which the server cannot open.
type SupervisedMessage struct {
	MessageID  string    `json:"message_id"`
	Seq        int64     `json:"seq"`
	SenderID   string    `json:"sender_id"`
	Body       string    `json:"body"`
	SentAt     time.Time `json:"sent_at"`
	Recalled   bool      `json:"recalled,omitempty"`
	E2EE       bool      `json:"e2ee,omitempty"`
	Ciphertext string    `json:"ciphertext,omitempty"`
}

// SupervisedMessageList is a page of history read under supervision.
type SupervisedMessageList struct {
	Supervised     bool                `json:"supervised"` // always true: this is supervised access
	SupervisionID  string              `json:"supervision_id"`
	ConversationID string              `json:"conversation_id"`
	Messages       []SupervisedMessage `json:"messages"`
}

// MuteRequest stops a member of the supervised department from sending in
// the conversation for Minutes (1 to 10080, a week).
type MuteRequest struct {
	UserID  string `json:"user_id"`
	Minutes int    `json:"minutes"`
}

// MuteResponse confirms a mute.
type MuteResponse struct {
	Supervised     bool      `json:"supervised"`
	SupervisionID  string    `json:"supervision_id"`
	ConversationID string    `json:"conversation_id"`
	UserID         string    `json:"user_id"`
	MutedUntil     time.Time `json:"muted_until"`
}

// SupervisionPolicy is the security admin's supervision policy:
// RequireApproval makes every grant wait for an auditor's approval.
type SupervisionPolicy struct {
	RequireApproval bool `json:"require_approval"`
}
