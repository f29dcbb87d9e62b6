package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"net/netip"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/crypt"
	"github.com/parleyhq/parley/wire"
)

// Push approval (A1): a login that passed the password on a new device is
// approved from a device where the same user is already signed in.
//
//  1. The new device calls BeginPush with its mfa_token. The server stores a
//     request (5 minutes, never beyond the pending login's own expiry, A9)
//     with a random two-digit number, shows the number to the new device,
//     and sends a push_request frame — IP, a location label, user agent, but
//     not the number — to every WebSocket of the user, on every node (the
//     broker). Only that user's connections receive it.
//  2. On the signed-in device the user types the number shown on the new
//     device and approves, or denies. Number matching defeats MFA fatigue:
//     a user who did not start the login has no number to type, and a
//     wrong number denies the request. A denial also voids the pending
//     login: the password was used by someone the user does not vouch for.
//  3. The new device polls; once approved, the poll replaces the pending
//     login by a full session (finishLogin), exactly once.
//
// Every step is audited: request, approval, denial (with the reason: by the
// user, or a wrong number) and expiry.
//
// Push is offered only in a login that has another factor (TOTP, passkey,
// or a one-time code), and only while another session of the user is
// signed in with a second factor. It is a possession factor grounded in
// that device's own MFA login, so it may complete the login of any user;
// it is never enrolment (A10).

const (
	pushTTL = 5 * time.Minute
	// maxPushPerLogin bounds the prompts one pending login can cause: an
	// attacker who knows the password cannot flood the user's devices.
	maxPushPerLogin = 3
	maxRequestIDLen = 64
)

// locationLabel classifies the source address. There is no GeoIP database
// (offline, P3: no outbound lookups), so the label says only what the
// address itself tells: loopback, a private network (RFC 1918 / RFC 4193),
// link-local, the public internet, or unknown.
func locationLabel(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private network"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsGlobalUnicast():
		return "public internet"
	}
	return "unknown"
}

// signedInElsewhere reports whether the user has a live session that was
// opened or stepped up with a second factor: a device that can approve.
func (o *OTP) signedInElsewhere(ctx context.Context, user parley.UserID) (bool, error) {
	list, err := o.s.store.ListUserSessions(ctx, user)
	if err != nil {
		return false, err
	}
	now := o.s.now()
	for _, s := range list {
		if s.Stage == parley.SessionActive && now.Before(s.ExpiresAt) && now.Sub(s.LastActiveAt) < o.s.cfg.IdleTimeout && !s.MFAAt.IsZero() {
			return true, nil
		}
	}
	return false, nil
}

func (o *OTP) publish(ctx context.Context, user parley.UserID, f wire.PushFrame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return parley.Internal("auth.push", err)
	}
	return o.events.Publish(ctx, parley.Event{Recipients: []parley.UserID{user}, Frame: b})
}

// resolved tells the user's devices that a request is settled.
func (o *OTP) resolved(ctx context.Context, p *parley.PushRequest, status string) {
	if err := o.publish(ctx, p.UserID, wire.PushFrame{Type: wire.FramePushResolved, RequestID: p.ID, Status: status}); err != nil {
		o.s.log.WarnContext(ctx, "push_resolved not published", "request", p.ID, "err", err)
	}
}

// BeginPush starts push approval of a pending login.
func (o *OTP) BeginPush(ctx context.Context, mfaToken string, m parley.RequestMeta) (*parley.PushBegun, error) {
	if o.events == nil {
		return nil, parley.Errorf(parley.CodeInvalid, "push approval is not available on this server")
	}
	sess, u, err := o.s.pendingLogin(ctx, mfaToken, m)
	if err != nil {
		return nil, err
	}
	ok, err := o.signedInElsewhere(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, parley.Errorf(parley.CodeInvalid, "no signed-in device can approve this sign-in; use another method")
	}
	n, err := o.s.store.CountPushRequests(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	if n >= maxPushPerLogin {
		_ = o.s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.push_request",
			SourceIP: m.SourceIP, Result: parley.ResultDenied, Reason: "too many approval requests for one sign-in"})
		return nil, parley.Errorf(parley.CodeRateLimited, "too many approval requests for this sign-in; use another method")
	}
	num, _ := rand.Int(rand.Reader, big.NewInt(90)) // 10–99: two digits, none with a leading zero
	now := o.s.now()
	p := &parley.PushRequest{
		ID: newID("push_"), UserID: u.ID, SessionID: sess.ID, TokenHash: crypt.HashToken(mfaToken),
		Number: 10 + int(num.Int64()), Status: parley.PushPending,
		SourceIP: m.SourceIP, Location: locationLabel(m.SourceIP), UserAgent: truncate(m.UserAgent, 256),
		CreatedAt: now, ExpiresAt: now.Add(pushTTL),
	}
	if sess.ExpiresAt.Before(p.ExpiresAt) {
		p.ExpiresAt = sess.ExpiresAt // never outlives the pending login (A9)
	}
	// Audited before the prompt goes out (L5): an approval request nobody
	// can account for must not reach a device.
	if err := o.s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.push_request",
		Target: p.ID, SourceIP: m.SourceIP, Result: parley.ResultSuccess,
		Reason: "from " + p.Location + ", " + truncate(p.UserAgent, 64)}); err != nil {
		return nil, parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := o.s.store.CreatePushRequest(ctx, p); err != nil {
		return nil, err
	}
	created, expires := p.CreatedAt, p.ExpiresAt
	if err := o.publish(ctx, u.ID, wire.PushFrame{Type: wire.FramePushRequest, RequestID: p.ID, IP: p.SourceIP,
		Location: p.Location, UserAgent: p.UserAgent, CreatedAt: &created, ExpiresAt: &expires}); err != nil {
		o.s.log.WarnContext(ctx, "push_request not published", "request", p.ID, "err", err)
		return nil, parley.Errorf(parley.CodeUnavailable, "the approval request could not be delivered; use another method")
	}
	return &parley.PushBegun{RequestID: p.ID, Number: p.Number, ExpiresAt: p.ExpiresAt}, nil
}

// PendingPush lists the actor's open approval requests: a device that
// connects (or reconnects) after the push_request frame went out still sees
// them. Like the frame, it never shows the number (number matching): that
// is on the new device only.
func (o *OTP) PendingPush(ctx context.Context, a *parley.Actor) ([]*parley.PushRequest, error) {
	if err := authz.Check(a, authz.PermSelf); err != nil {
		return nil, err
	}
	list, err := o.s.store.PendingPushRequests(ctx, a.UserID, o.s.now())
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		p.Number, p.TokenHash = 0, nil
	}
	return list, nil
}

func notApproved(msg string) error { return parley.Errorf(parley.CodeUnauthenticated, "%s", msg) }

// PollPush answers the new device: still pending (PushPoll without Issued),
// approved (the session, issued once), or a 401 for a denied or expired
// request. Only the holder of the request's mfa_token may poll it.
func (o *OTP) PollPush(ctx context.Context, mfaToken, requestID string, m parley.RequestMeta) (*parley.PushPoll, error) {
	if mfaToken == "" || len(mfaToken) > 128 || requestID == "" || len(requestID) > maxRequestIDLen {
		return nil, badCredentials()
	}
	p, err := o.s.store.PushRequestByID(ctx, requestID)
	if parley.IsNotFound(err) {
		return nil, badCredentials()
	}
	if err != nil {
		return nil, err
	}
	if !crypt.ConstantTimeEqual(p.TokenHash, crypt.HashToken(mfaToken)) {
		return nil, badCredentials()
	}
	now := o.s.now()
	switch p.Status {
	case parley.PushPending:
		if !now.Before(p.ExpiresAt) {
			o.expire(ctx, p, now)
			return nil, notApproved("the approval request expired")
		}
		if _, _, err := o.s.pendingLogin(ctx, mfaToken, m); err != nil {
			return nil, err
		}
		return &parley.PushPoll{}, nil
	case parley.PushApproved:
		sess, u, err := o.s.pendingLogin(ctx, mfaToken, m)
		if err != nil {
			return nil, err
		}
		if sess.ID != p.SessionID {
			return nil, badCredentials()
		}
		ok, err := o.s.store.TransitionPushRequest(ctx, p.ID, parley.PushApproved, parley.PushUsed, p.DecidedAt, p.DecidedBy, "")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, badCredentials() // a concurrent poll used it
		}
		issued, err := o.s.finishLogin(ctx, sess, u, MethodPush, m)
		if err != nil {
			return nil, err
		}
		return &parley.PushPoll{Issued: issued}, nil
	case parley.PushDenied:
		return nil, notApproved("the sign-in was denied on your signed-in device")
	case parley.PushExpired:
		return nil, notApproved("the approval request expired")
	}
	return nil, badCredentials()
}

// expire moves an overdue request to expired; whoever wins the transition
// audits it and tells the devices.
func (o *OTP) expire(ctx context.Context, p *parley.PushRequest, now time.Time) {
	ok, err := o.s.store.TransitionPushRequest(ctx, p.ID, parley.PushPending, parley.PushExpired, now, "", "expired unanswered")
	if err == nil && ok {
		o.pushExpired(ctx, p)
	}
}

func (o *OTP) pushExpired(ctx context.Context, p *parley.PushRequest) {
	_ = o.s.record(ctx, parley.AuditRecord{ActorID: p.UserID, Action: "auth.push_expire", Target: p.ID,
		SourceIP: p.SourceIP, Result: parley.ResultFailure, Reason: "expired unanswered"})
	o.resolved(ctx, p, wire.PushStatusExpired)
}

// pushFor finds the actor's own pending request. Another user's request is
// not_found, never forbidden (Z6).
func (o *OTP) pushFor(ctx context.Context, a *parley.Actor, requestID string) (*parley.PushRequest, error) {
	notFound := parley.Errorf(parley.CodeNotFound, "push request not found")
	if requestID == "" || len(requestID) > maxRequestIDLen {
		return nil, notFound
	}
	p, err := o.s.store.PushRequestByID(ctx, requestID)
	if parley.IsNotFound(err) || (err == nil && p.UserID != a.UserID) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	// Only a device that itself signed in with a second factor may vouch
	// for another login.
	if a.MFAAt.IsZero() {
		return nil, parley.Errorf(parley.CodeForbidden, "this session did not sign in with a second factor and cannot approve sign-ins")
	}
	now := o.s.now()
	if p.Status == parley.PushPending && !now.Before(p.ExpiresAt) {
		o.expire(ctx, p, now)
		return nil, parley.Errorf(parley.CodeConflict, "the approval request expired")
	}
	if p.Status != parley.PushPending {
		return nil, parley.Errorf(parley.CodeConflict, "the approval request was already answered or expired")
	}
	return p, nil
}

// ApprovePush approves a request from a signed-in device. number must be
// the one the new device shows; a wrong one denies the request.
func (o *OTP) ApprovePush(ctx context.Context, a *parley.Actor, requestID string, number int) error {
	if number < 10 || number > 99 {
		return parley.Errorf(parley.CodeInvalid, "number must be the two-digit number shown on the new device")
	}
	p, err := o.pushFor(ctx, a, requestID)
	if err != nil {
		return err
	}
	if number != p.Number {
		if err := o.deny(ctx, a, p, "wrong number"); err != nil {
			return err
		}
		return parley.Errorf(parley.CodeForbidden, "the number does not match the one on the new device; the sign-in was denied")
	}
	// Audited before it takes effect (L5): an approval is what lets a
	// login through.
	if err := o.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.push_approve",
		Target: p.ID, SourceIP: a.SourceIP, Result: parley.ResultSuccess,
		Reason: "by session " + a.SessionID + " for a sign-in from " + p.Location + " " + p.SourceIP}); err != nil {
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	ok, err := o.s.store.TransitionPushRequest(ctx, p.ID, parley.PushPending, parley.PushApproved, o.s.now(), a.SessionID, "")
	if err != nil {
		return err
	}
	if !ok {
		return parley.Errorf(parley.CodeConflict, "the approval request was already answered or expired")
	}
	o.resolved(ctx, p, wire.PushStatusApproved)
	return nil
}

// DenyPush denies a request; the pending login it belongs to is void.
func (o *OTP) DenyPush(ctx context.Context, a *parley.Actor, requestID string) error {
	p, err := o.pushFor(ctx, a, requestID)
	if err != nil {
		return err
	}
	return o.deny(ctx, a, p, "denied by the user")
}

func (o *OTP) deny(ctx context.Context, a *parley.Actor, p *parley.PushRequest, reason string) error {
	ok, err := o.s.store.TransitionPushRequest(ctx, p.ID, parley.PushPending, parley.PushDenied, o.s.now(), a.SessionID, reason)
	if err != nil {
		return err
	}
	if !ok {
		return parley.Errorf(parley.CodeConflict, "the approval request was already answered or expired")
	}
	// The password was used by someone the user does not vouch for: the
	// pending login ends here, whatever factor it would try next.
	if err := o.s.store.DeleteSession(ctx, p.SessionID); err != nil && !parley.IsNotFound(err) {
		return err
	}
	_ = o.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.push_deny",
		Target: p.ID, SourceIP: a.SourceIP, Result: parley.ResultDenied,
		Reason: reason + "; sign-in from " + p.Location + " " + p.SourceIP})
	o.resolved(ctx, p, wire.PushStatusDenied)
	return nil
}
