package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/parleyhq/parley/wire"
)

// Supervised access (Z3, D3). Every call of the supervisor needs a fresh
// step-up (StepUp) and a department_admin grant over the department; the
// approval calls are the auditor's.

// OpenSupervision opens time-boxed supervised access to a department
// subtree. reason (10–500 characters) is required; ticketID is optional;
// minutes <= 0 means the server's default (60).
func (c *Client) OpenSupervision(ctx context.Context, departmentID, reason, ticketID string, minutes int) (*wire.SupervisionOpened, error) {
	req := wire.SupervisionRequest{DepartmentID: departmentID, Reason: reason, TicketID: ticketID}
	if minutes > 0 {
		req.DurationMinutes = minutes
	}
	var out wire.SupervisionOpened
	if err := c.do(ctx, call{method: http.MethodPost, path: "/supervision", in: req, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Supervisions lists the caller's supervision grants.
func (c *Client) Supervisions(ctx context.Context) ([]wire.Supervision, error) {
	var out wire.SupervisionList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/supervision", out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Supervisions, nil
}

// PendingSupervisions lists the requests waiting for the caller's approval
// (auditors).
func (c *Client) PendingSupervisions(ctx context.Context) ([]wire.Supervision, error) {
	var out wire.SupervisionList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/supervision/pending", out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Supervisions, nil
}

// ApproveSupervision approves another user's pending request (auditors).
func (c *Client) ApproveSupervision(ctx context.Context, id string) (*wire.Supervision, error) {
	return c.decideSupervision(ctx, id, "/approve", wire.Empty{})
}

// DenySupervision denies another user's pending request (auditors);
// reason may be empty.
func (c *Client) DenySupervision(ctx context.Context, id, reason string) (*wire.Supervision, error) {
	return c.decideSupervision(ctx, id, "/deny", wire.SupervisionDenyRequest{Reason: reason})
}

func (c *Client) decideSupervision(ctx context.Context, id, suffix string, in any) (*wire.Supervision, error) {
	p, err := supervisionPath(id, suffix)
	if err != nil {
		return nil, err
	}
	var out wire.Supervision
	if err := c.do(ctx, call{method: http.MethodPost, path: p, in: in, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// EndSupervision ends the caller's supervision early.
func (c *Client) EndSupervision(ctx context.Context, id string) error {
	p, err := supervisionPath(id, "")
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: p, auth: true})
}

// SupervisedConversations lists the conversations a grant covers, by ID
// after the cursor after (empty: from the start). limit <= 0 leaves the
// page size to the server.
func (c *Client) SupervisedConversations(ctx context.Context, id, after string, limit int) (*wire.SupervisedConversationList, error) {
	p, err := supervisionPath(id, "/conversations")
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out wire.SupervisedConversationList
	if err := c.do(ctx, call{method: http.MethodGet, path: p, query: q, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// SupervisedHistory reads a conversation's messages with seq > afterSeq
// under a grant; each call is audited with the grant's reason.
func (c *Client) SupervisedHistory(ctx context.Context, id, convID string, afterSeq int64, limit int) (*wire.SupervisedMessageList, error) {
	p, err := supervisedConvPath(id, convID, "/messages")
	if err != nil {
		return nil, err
	}
	q := url.Values{"after_seq": {strconv.FormatInt(afterSeq, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out wire.SupervisedMessageList
	if err := c.do(ctx, call{method: http.MethodGet, path: p, query: q, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// RecallMessage recalls the message with seq: its body is destroyed for
// everyone and the members are told.
func (c *Client) RecallMessage(ctx context.Context, id, convID string, seq int64) error {
	p, err := supervisedConvPath(id, convID, "/messages/"+strconv.FormatInt(seq, 10)+"/recall")
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: p, in: wire.Empty{}, auth: true})
}

// MuteMember stops a member of the supervised department from sending in
// the conversation for minutes.
func (c *Client) MuteMember(ctx context.Context, id, convID, userID string, minutes int) (*wire.MuteResponse, error) {
	p, err := supervisedConvPath(id, convID, "/mute")
	if err != nil {
		return nil, err
	}
	var out wire.MuteResponse
	if err := c.do(ctx, call{method: http.MethodPost, path: p, in: wire.MuteRequest{UserID: userID, Minutes: minutes}, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// SupervisionPolicy returns the supervision policy (security admins,
// step-up).
func (c *Client) SupervisionPolicy(ctx context.Context) (*wire.SupervisionPolicy, error) {
	var out wire.SupervisionPolicy
	err := c.do(ctx, call{method: http.MethodGet, path: "/policy/supervision", auth: true, out: &out})
	return &out, err
}

// SetSupervisionPolicy replaces the supervision policy (security admins,
// step-up).
func (c *Client) SetSupervisionPolicy(ctx context.Context, p wire.SupervisionPolicy) (*wire.SupervisionPolicy, error) {
	var out wire.SupervisionPolicy
	err := c.do(ctx, call{method: http.MethodPut, path: "/policy/supervision", auth: true, in: p, out: &out})
	return &out, err
}

func supervisionPath(id, suffix string) (string, error) {
	e, err := escapeID(id)
	if err != nil {
		return "", err
	}
	return "/supervision/" + e + suffix, nil
}

func supervisedConvPath(id, convID, suffix string) (string, error) {
	cid, err := escapeID(convID)
	if err != nil {
		return "", err
	}
	return supervisionPath(id, "/conversations/"+cid+suffix)
}
