package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/wire"
)

// One-time codes by e-mail or SMS and push approval (A1).
//
// A login whose methods include "email_otp" or "sms_otp": SendLoginOTP,
// then CompleteMFA(mfaToken, "email_otp", code). A login whose methods
// include "push": BeginPush, show the returned number to the user, then
// WaitPush (or PollPush in a loop of your own). On the signed-in device,
// NextPush delivers push_request frames; answer with ApprovePush(id,
// number typed by the user) or DenyPush.

// SendLoginOTP sends a one-time code for a pending login to the user's
// verified address on channel ("email" or "sms").
func (c *Client) SendLoginOTP(ctx context.Context, mfaToken, channel string) (*wire.OTPSentResponse, error) {
	var out wire.OTPSentResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/otp/send",
		in: wire.OTPSendRequest{MFAToken: mfaToken, Channel: channel}, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SendStepUpOTP sends a one-time code for step-up.
func (c *Client) SendStepUpOTP(ctx context.Context, channel string) (*wire.OTPSentResponse, error) {
	var out wire.OTPSentResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/otp/step-up/send", auth: true,
		in: wire.OTPChannelRequest{Channel: channel}, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// StepUpOTP confirms a step-up code; the client keeps the replacement
// session.
func (c *Client) StepUpOTP(ctx context.Context, channel, code string) (*wire.TokenResponse, error) {
	var out wire.TokenResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/otp/step-up", auth: true,
		in: wire.OTPStepUpRequest{Channel: channel, Code: code}, out: &out})
	if err != nil {
		return nil, err
	}
	if out.Token == "" {
		return nil, errors.New("client: step-up answer has no token")
	}
	c.SetToken(out.Token)
	return &out, nil
}

// Contacts lists the caller's code addresses, masked.
func (c *Client) Contacts(ctx context.Context) ([]wire.Contact, error) {
	var out wire.ContactList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/auth/otp/contacts", auth: true, out: &out}); err != nil {
		return nil, err
	}
	return out.Contacts, nil
}

// SetContact sends a verification code to a new address on channel
// (step-up needed); ConfirmContact finishes.
func (c *Client) SetContact(ctx context.Context, channel, address string) (*wire.OTPSentResponse, error) {
	ch, err := escapeID(channel)
	if err != nil {
		return nil, err
	}
	var out wire.OTPSentResponse
	err = c.do(ctx, call{method: http.MethodPut, path: "/auth/otp/contacts/" + ch, auth: true,
		in: wire.ContactRequest{Address: address}, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ConfirmContact verifies the new address with the code sent to it.
func (c *Client) ConfirmContact(ctx context.Context, channel, code string) (*wire.Contact, error) {
	ch, err := escapeID(channel)
	if err != nil {
		return nil, err
	}
	var out wire.Contact
	err = c.do(ctx, call{method: http.MethodPost, path: "/auth/otp/contacts/" + ch + "/confirm", auth: true,
		in: wire.OTPCodeRequest{Code: code}, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteContact removes the caller's address on channel (step-up needed).
func (c *Client) DeleteContact(ctx context.Context, channel string) error {
	ch, err := escapeID(channel)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: "/auth/otp/contacts/" + ch, auth: true})
}

// SetUserContact sets another user's verified address (user
// administrators, step-up needed).
func (c *Client) SetUserContact(ctx context.Context, userID, channel, address string) (*wire.Contact, error) {
	id, err := escapeID(userID)
	if err != nil {
		return nil, err
	}
	ch, err := escapeID(channel)
	if err != nil {
		return nil, err
	}
	var out wire.Contact
	err = c.do(ctx, call{method: http.MethodPut, path: "/users/" + id + "/contacts/" + ch, auth: true,
		in: wire.ContactRequest{Address: address}, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// BeginPush asks the user's signed-in devices to approve a pending login.
// Show the returned Number to the user: they type it on the other device.
func (c *Client) BeginPush(ctx context.Context, mfaToken string) (*wire.PushBeginResponse, error) {
	var out wire.PushBeginResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/push/begin",
		in: wire.PushBeginRequest{MFAToken: mfaToken}, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PollPush asks once whether the request was approved. It returns the
// response with Status "pending" (ask again later) or "approved", in which
// case the client keeps the new session. A denied or expired request is an
// *APIError with code "unauthenticated".
func (c *Client) PollPush(ctx context.Context, mfaToken, requestID string) (*wire.PushPollResponse, error) {
	var out wire.PushPollResponse
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/push/poll",
		in: wire.PushPollRequest{MFAToken: mfaToken, RequestID: requestID}, out: &out})
	if err != nil {
		return nil, err
	}
	switch out.Status {
	case wire.PushStatusApproved:
		if out.Token == "" {
			return nil, errors.New("client: approved push answer has no token")
		}
		c.SetToken(out.Token)
	case wire.PushStatusPending:
	default:
		return nil, fmt.Errorf("client: unexpected push status %q", out.Status)
	}
	return &out, nil
}

// WaitPush polls every interval (2 s if zero) until the request is
// approved, refused, or ctx ends.
func (c *Client) WaitPush(ctx context.Context, mfaToken, requestID string, interval time.Duration) (*wire.PushPollResponse, error) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	for {
		out, err := c.PollPush(ctx, mfaToken, requestID)
		if err != nil || out.Status == wire.PushStatusApproved {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// ApprovePush approves a push request from this (signed-in) device with
// the number shown on the new device. A wrong number denies the request.
func (c *Client) ApprovePush(ctx context.Context, requestID string, number int) error {
	id, err := escapeID(requestID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: "/auth/push/" + id + "/approve", auth: true,
		in: wire.PushApproveRequest{Number: number}})
}

// DenyPush denies a push request; the login it belongs to is void.
func (c *Client) DenyPush(ctx context.Context, requestID string) error {
	id, err := escapeID(requestID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: "/auth/push/" + id + "/deny", auth: true, in: wire.Empty{}})
}

// NextPush reads the next frame like Next and, for a push_request or
// push_resolved frame, also returns it decoded in full (ServerFrame has no
// room for its fields). push is nil for every other frame.
func (c *Conn) NextPush(ctx context.Context) (f *wire.ServerFrame, push *wire.PushFrame, err error) {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return nil, nil, err
	}
	if typ != websocket.MessageText {
		return nil, nil, errors.New("client: unexpected binary frame")
	}
	f = new(wire.ServerFrame)
	if err := json.Unmarshal(data, f); err != nil {
		return nil, nil, fmt.Errorf("client: malformed frame: %w", err)
	}
	if f.Type == "" {
		return nil, nil, errors.New("client: frame without a type")
	}
	if f.Type == wire.FramePushRequest || f.Type == wire.FramePushResolved {
		push = new(wire.PushFrame)
		if err := json.Unmarshal(data, push); err != nil {
			return nil, nil, fmt.Errorf("client: malformed %s frame: %w", f.Type, err)
		}
		if push.RequestID == "" {
			return nil, nil, fmt.Errorf("client: %s frame without request_id", f.Type)
		}
	}
	return f, push, nil
}

// PendingPush lists the caller's open approval requests (no numbers: those
// are on the new device).
func (c *Client) PendingPush(ctx context.Context) ([]wire.PushFrame, error) {
	var out wire.PushRequestList
	err := c.do(ctx, call{method: http.MethodGet, path: "/auth/push/pending", auth: true, out: &out})
	return out.Requests, err
}
