package wire

import "time"

// Push approval (A1): a login on a new device is approved from a device
// that is already signed in, over its WebSocket. The new device shows a
// two-digit number; the approving device must type it back (number
// matching), so an approval cannot be a reflex tap on a prompt the user did
// not cause (MFA fatigue). The number is never in the push_request frame.

// WebSocket frames of push approval (server → client).
const (
	// FramePushRequest asks the user's signed-in devices to approve a
	// login: PushFrame with RequestID, IP, Location, UserAgent, CreatedAt
	// and ExpiresAt.
	FramePushRequest = "push_request"
	// FramePushResolved tells the devices that the request was answered
	// or expired, so they can dismiss their prompt: RequestID and Status.
	FramePushResolved = "push_resolved"
)

// Push request statuses, as push_resolved frames and polls report them.
const (
	PushStatusPending  = "pending"
	PushStatusApproved = "approved"
	PushStatusDenied   = "denied"
	PushStatusExpired  = "expired"
)

// PushFrame is a push_request or push_resolved frame.
type PushFrame struct {
	Type      string     `json:"type"`
	RequestID string     `json:"request_id"`
	IP        string     `json:"ip,omitempty"`
	Location  string     `json:"location,omitempty"` // "loopback", "private network", "public internet", …
	UserAgent string     `json:"user_agent,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Status    string     `json:"status,omitempty"` // push_resolved only
}

// PushRequestList lists open approval requests, each shaped like the
// push_request frame that announced it.
type PushRequestList struct {
	Requests []PushFrame `json:"requests"`
}

// PushBeginRequest starts push approval for a pending login.
type PushBeginRequest struct {
	MFAToken string `json:"mfa_token"`
}

// PushBeginResponse is the request to poll and the number the new device
// shows for the user to type on the approving device.
type PushBeginResponse struct {
	RequestID string    `json:"request_id"`
	Number    int       `json:"number"`
	ExpiresAt time.Time `json:"expires_at"`
}

// PushApproveRequest approves a request with the number the new device shows.
type PushApproveRequest struct {
	Number int `json:"number"`
}

// PushPollRequest asks whether a push request was approved.
type PushPollRequest struct {
	MFAToken  string `json:"mfa_token"`
	RequestID string `json:"request_id"`
}

// PushPollResponse is "pending" (HTTP 202: poll again) or "approved" with
// the new session (HTTP 200). A denied or expired request is 401.
type PushPollResponse struct {
	Status    string     `json:"status"`
	Token     string     `json:"token,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}
