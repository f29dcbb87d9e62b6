package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/parleyhq/parley/wire"
)

// Setup creates the first administrator with the one-time setup token and
// returns its user ID. It does not log in.
func (c *Client) Setup(ctx context.Context, req wire.SetupRequest) (string, error) {
	var out wire.UserIDResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/setup", in: req, out: &out})
	return out.UserID, err
}

// Login is the first step of login. When the server answers with a session
// the client keeps its token; when it answers MFARequired, finish with
// CompleteMFA.
func (c *Client) Login(ctx context.Context, username, password string) (*wire.LoginResponse, error) {
	var out wire.LoginResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/login",
		in: wire.LoginRequest{Username: username, Password: password}, out: &out})
	if err != nil {
		return nil, err
	}
	if out.Token != "" {
		c.SetToken(out.Token)
	} else if !out.MFARequired {
		return nil, errors.New("client: login answer has neither a token nor an MFA challenge")
	}
	return &out, nil
}

// CompleteMFA answers an MFA challenge (method "totp" or "recovery_code")
// and keeps the session token.
func (c *Client) CompleteMFA(ctx context.Context, mfaToken, method, code string) (*wire.TokenResponse, error) {
	var out wire.TokenResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/mfa",
		in: wire.MFARequest{MFAToken: mfaToken, Method: method, Code: code}, out: &out})
	if err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, errors.New("client: MFA answer has no token")
	}
	c.SetToken(out.Token)
	return &out, nil
}

// Logout ends the current session on the server and forgets the token
// locally. The token is forgotten even if the server call fails, so a
// caller that logs out never keeps using it by accident.
func (c *Client) Logout(ctx context.Context) error {
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/logout", in: wire.Empty{}, auth: true})
	c.SetToken("")
	return err
}

// Me describes the caller.
func (c *Client) Me(ctx context.Context) (*wire.Me, error) {
	var out wire.Me
	if err := c.do(ctx, call{method: http.MethodGet, path: "/me", out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// EnrollTOTP starts TOTP enrolment and returns the shared secret.
func (c *Client) EnrollTOTP(ctx context.Context) (*wire.TOTPEnrollResponse, error) {
	var out wire.TOTPEnrollResponse
	if err := c.do(ctx, call{method: http.MethodPost, path: "/auth/totp/enroll", in: wire.Empty{}, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConfirmTOTP confirms enrolment with a current code. The server replaces
// the session (A5); the client keeps the new token. Recovery codes are in
// the answer, once.
func (c *Client) ConfirmTOTP(ctx context.Context, code string) (*wire.TOTPConfirmResponse, error) {
	var out wire.TOTPConfirmResponse
	if err := c.do(ctx, call{method: http.MethodPost, path: "/auth/totp/confirm",
		in: wire.TOTPConfirmRequest{Code: code}, out: &out, auth: true}); err != nil {
		return nil, err
	}
	if out.Token != "" {
		c.SetToken(out.Token)
	}
	return &out, nil
}

// CreateUser creates an account and returns its user ID.
func (c *Client) CreateUser(ctx context.Context, req wire.CreateUserRequest) (string, error) {
	var out wire.UserIDResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/users", in: req, out: &out, auth: true})
	return out.UserID, err
}

// Users searches the directory; an empty query lists what the caller may see.
func (c *Client) Users(ctx context.Context, query string) ([]wire.UserSummary, error) {
	var q url.Values
	if query != "" {
		q = url.Values{"q": {query}}
	}
	var out wire.UserList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/users", query: q, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Users, nil
}

// CreateDepartment adds a department.
func (c *Client) CreateDepartment(ctx context.Context, req wire.CreateDepartmentRequest) (*wire.Department, error) {
	var out wire.Department
	if err := c.do(ctx, call{method: http.MethodPost, path: "/departments", in: req, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Departments lists the department tree, parents before children.
func (c *Client) Departments(ctx context.Context) ([]wire.Department, error) {
	var out wire.DepartmentList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/departments", out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Departments, nil
}

// CreateConversation creates a "direct" or "group" conversation and returns
// its ID.
func (c *Client) CreateConversation(ctx context.Context, typ string, memberIDs []string, title string) (string, error) {
	if memberIDs == nil {
		memberIDs = []string{} // the contract has member_ids as an array, never null
	}
	var out wire.ConversationIDResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/conversations",
		in: wire.CreateConversationRequest{Type: typ, MemberIDs: memberIDs, Title: title}, out: &out, auth: true})
	return out.ConversationID, err
}

// Conversations lists the caller's conversations.
func (c *Client) Conversations(ctx context.Context) ([]wire.Conversation, error) {
	var out wire.ConversationList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/conversations", out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Conversations, nil
}

// Send stores a message. Sending again with the same clientMsgID returns the
// first result, so a caller may retry after a network error without
// creating a duplicate.
func (c *Client) Send(ctx context.Context, convID, clientMsgID, body string) (*wire.SendResponse, error) {
	p, err := convPath(convID, "/messages")
	if err != nil {
		return nil, err
	}
	var out wire.SendResponse
	if err := c.do(ctx, call{method: http.MethodPost, path: p,
		in: wire.SendRequest{ClientMsgID: clientMsgID, Body: body}, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// History returns messages with seq > afterSeq, ordered by seq. limit <= 0
// leaves the page size to the server.
func (c *Client) History(ctx context.Context, convID string, afterSeq int64, limit int) ([]wire.Message, error) {
	return c.history(ctx, convID, "after_seq", afterSeq, limit)
}

// HistoryBefore returns messages with seq < beforeSeq, ordered by seq: the
// page before what the caller already has.
func (c *Client) HistoryBefore(ctx context.Context, convID string, beforeSeq int64, limit int) ([]wire.Message, error) {
	return c.history(ctx, convID, "before_seq", beforeSeq, limit)
}

func (c *Client) history(ctx context.Context, convID, param string, seq int64, limit int) ([]wire.Message, error) {
	p, err := convPath(convID, "/messages")
	if err != nil {
		return nil, err
	}
	q := url.Values{param: {strconv.FormatInt(seq, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out wire.MessageList
	if err := c.do(ctx, call{method: http.MethodGet, path: p, query: q, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// MarkRead moves the caller's read marker in a conversation to seq.
func (c *Client) MarkRead(ctx context.Context, convID string, seq int64) error {
	p, err := convPath(convID, "/read")
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: p, in: wire.ReadRequest{Seq: seq}, auth: true})
}

// ReadMarkers returns the members' read positions in a conversation.
func (c *Client) ReadMarkers(ctx context.Context, convID string) ([]wire.ReadMarker, error) {
	p, err := convPath(convID, "/read")
	if err != nil {
		return nil, err
	}
	var out wire.ReadMarkerList
	if err := c.do(ctx, call{method: http.MethodGet, path: p, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.ReadMarkers, nil
}

// Sessions lists the caller's sessions.
func (c *Client) Sessions(ctx context.Context) ([]wire.Session, error) {
	var out wire.SessionList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/sessions", out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Sessions, nil
}

// RevokeSession ends one of the caller's sessions.
func (c *Client) RevokeSession(ctx context.Context, sessionID string) error {
	id, err := escapeID(sessionID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: "/sessions/" + id, auth: true})
}

// Audit returns audit records with seq > afterSeq (auditors only). limit <= 0
// leaves the page size to the server.
func (c *Client) Audit(ctx context.Context, afterSeq int64, limit int) ([]wire.AuditRecord, error) {
	q := url.Values{"after_seq": {strconv.FormatInt(afterSeq, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out wire.AuditList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/audit", query: q, out: &out, auth: true}); err != nil {
		return nil, err
	}
	return out.Records, nil
}

func convPath(convID, suffix string) (string, error) {
	id, err := escapeID(convID)
	if err != nil {
		return "", err
	}
	return "/conversations/" + id + suffix, nil
}
