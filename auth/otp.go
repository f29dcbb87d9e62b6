package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
)

// One-time codes by e-mail or SMS (A1), delivered through a
// parley.Notifier (package notify), and push approval (push.go).
//
// A10 decision. A code sent by e-mail or SMS proves access to a mailbox or
// phone number, not possession of a key: it never counts as the
// cryptographic factor. So:
//   - It is never MFA enrolment: the enrolment gate of administrative roles
//     (A2), of a department whose MFA roll-out is due, and of the mlps3
//     preset keeps asking for TOTP or a passkey.
//   - It is offered at login and accepted for step-up only to users for
//     whom MFA is voluntary (no administrative role, no department rule in
//     force, no MFA-for-all policy). There it adds a factor to the password
//     that the user would otherwise not have. Anyone whom policy requires to
//     have MFA must use the cryptographic factor it requires; a weaker code
//     must not be a way around it.
//
// Codes: 6 digits from crypto/rand, valid 5 minutes, single use, at most 5
// wrong tries per code (and the pending login's own 5, failSecondFactor),
// at most one send a minute and 5 an hour per user across all nodes.
//
// Storage (A7). Six digits are a million values: an unkeyed hash, salted or
// not, is inverted offline in a millisecond by anyone with a copy of the
// database. Codes are therefore stored as HMAC-SHA-256 under a 256-bit key
// that is itself sealed under the keyring's KEK (D2) and so never in the
// database in the clear: a database thief without the KEK learns nothing.
// The MAC covers the challenge ID, user, purpose, channel and binding as
// well as the code, so a stored MAC is useless for any other challenge. The
// hash comes from crypt's suite (crypt.Intl.NewHash), so the `gm` profile
// (G1) swaps in HMAC-SM3 in the same place.

// Second-factor methods of one-time codes and push approval.
const (
	MethodEmailOTP = "email_otp"
	MethodSMSOTP   = "sms_otp"
	MethodPush     = "push"
)

// otpMethods are the code methods /auth/mfa accepts besides codeMethods.
var otpMethods = []string{MethodEmailOTP, MethodSMSOTP}

const (
	otpDigits      = 6
	otpTTL         = 5 * time.Minute
	otpMaxAttempts = 5
	otpResendGap   = time.Minute
	otpHourlyLimit = 5
	// otpKeep is how long sent codes are kept: the hourly limit counts them.
	otpKeep = 2 * time.Hour
)

var otpKeyAAD = []byte("parley/otp-mac-key/v1")

// OTP is one-time codes and push approval (parley.OTPService). It shares the
// store, keys, clock, throttle and audit of the Service it extends.
type OTP struct {
	s      *Service
	notify parley.Notifier // nil: no provider, no codes (P3)
	events parley.Broker   // nil: no push approval

	keyMu sync.Mutex
	key   []byte // the MAC key, unsealed once
}

var _ parley.OTPService = (*OTP)(nil)

// NewOTP builds the service and lets s offer its methods at login. notifier
// may be nil: then one-time codes are not offered (P3: nothing is sent
// anywhere unless an operator configured a provider). events carries push
// requests to the user's WebSocket connections; nil disables push.
func NewOTP(s *Service, notifier parley.Notifier, events parley.Broker) *OTP {
	o := &OTP{s: s, notify: notifier, events: events}
	s.otp = o
	return o
}

func methodChannel(method string) (string, bool) {
	switch method {
	case MethodEmailOTP:
		return parley.ChannelEmail, true
	case MethodSMSOTP:
		return parley.ChannelSMS, true
	}
	return "", false
}

func channelMethod(channel string) string {
	if channel == parley.ChannelSMS {
		return MethodSMSOTP
	}
	return MethodEmailOTP
}

func checkChannel(channel string) error {
	if channel != parley.ChannelEmail && channel != parley.ChannelSMS {
		return parley.Errorf(parley.CodeInvalid, "channel must be %q or %q", parley.ChannelEmail, parley.ChannelSMS)
	}
	return nil
}

// available refuses a channel the configured provider cannot reach.
func (o *OTP) available(channel string) error {
	if err := checkChannel(channel); err != nil {
		return err
	}
	if o.notify == nil || !o.notify.Supports(channel) {
		return parley.Errorf(parley.CodeInvalid, "one-time codes by %s are not configured on this server", channel)
	}
	return nil
}

// codesAllowed applies the A10 decision above: codes are a second factor
// only for users whom no policy requires to have MFA.
func (o *OTP) codesAllowed(ctx context.Context, u *parley.User) (bool, error) {
	required, err := o.s.mfaRequired(ctx, u)
	if err != nil || required {
		return false, err
	}
	pol, err := o.s.passwordPolicy(ctx)
	if err != nil {
		return false, err
	}
	return !pol.MFAForAll, nil
}

func notForThisAccount() error {
	return parley.Errorf(parley.CodeInvalid,
		"one-time codes by e-mail or SMS are not a second factor for this account: policy requires TOTP or a passkey (A10)")
}

// loginMethods lists the code methods u can use (a verified address on a
// channel the provider reaches) and push when u has another device signed
// in. others are the methods already offered: push only ever joins a
// login that has some other factor, never replaces having one.
func (o *OTP) loginMethods(ctx context.Context, u *parley.User, others []string) ([]string, error) {
	if o == nil {
		return nil, nil
	}
	var methods []string
	if o.notify != nil {
		allowed, err := o.codesAllowed(ctx, u)
		if err != nil {
			return nil, err
		}
		if allowed {
			contacts, err := o.s.store.Contacts(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			for _, c := range contacts {
				if c.Verified && o.notify.Supports(c.Channel) {
					methods = append(methods, channelMethod(c.Channel))
				}
			}
		}
	}
	if o.events != nil && len(others)+len(methods) > 0 {
		ok, err := o.signedInElsewhere(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			methods = append(methods, MethodPush)
		}
	}
	return methods, nil
}

// verifyLoginCode is CompleteMFA's check of an e-mail or SMS code; known is
// false for any other method.
func (o *OTP) verifyLoginCode(ctx context.Context, sess *parley.Session, u *parley.User, method, code string) (known bool, err error) {
	channel, ok := methodChannel(method)
	if o == nil || !ok {
		return false, nil
	}
	allowed, err := o.codesAllowed(ctx, u)
	if err != nil {
		return true, err
	}
	if !allowed {
		return true, parley.Errorf(parley.CodeUnauthenticated, "codes are not a factor of this account (A10)")
	}
	return true, o.check(ctx, u, parley.OTPLogin, channel, sess.ID, code, nil)
}

// macKey returns the key codes are MACed under, creating and sealing it
// on first use (the first node wins, EnsureOTPKey).
func (o *OTP) macKey(ctx context.Context) ([]byte, error) {
	o.keyMu.Lock()
	defer o.keyMu.Unlock()
	if o.key != nil {
		return o.key, nil
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	sealed, err := crypt.SealSecret(ctx, o.s.keys, raw, otpKeyAAD)
	clear(raw)
	if err != nil {
		return nil, parley.Internal("auth.otpKey", err)
	}
	stored, err := o.s.store.EnsureOTPKey(ctx, sealed, o.s.now())
	if err != nil {
		return nil, err
	}
	key, err := crypt.OpenSecret(ctx, o.s.keys, stored, otpKeyAAD)
	if err != nil {
		return nil, parley.Internal("auth.otpKey", err)
	}
	o.key = key
	return key, nil
}

// mac is HMAC(key, every field of the challenge that gives the code its
// meaning ‖ code), each field length-prefixed so that no two field lists
// encode alike.
func otpMAC(key []byte, c *parley.OTPChallenge, code string) []byte {
	h := hmac.New(crypt.Intl.NewHash, key)
	var payload string
	if c.Payload != nil {
		payload = hex.EncodeToString(crypt.HashToken(string(c.Payload)))
	}
	for _, f := range []string{"parley/otp/v1", c.ID, string(c.UserID), string(c.Purpose), c.Channel, c.Binding, payload, code} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f))) // #nosec G115 -- the fields are IDs, a purpose, a channel, a hash and a code: bytes, far below 4 GiB
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

func newOTPCode() string {
	max := big.NewInt(1)
	for range otpDigits {
		max.Mul(max, big.NewInt(10))
	}
	n, _ := rand.Int(rand.Reader, max) // crypto/rand never fails (Go 1.24+)
	return fmt.Sprintf("%0*d", otpDigits, n)
}

func newID(prefix string) string {
	t, _ := crypt.NewToken()
	return prefix + t[:22] // 132 random bits
}

// resendLimit allows a send if the user's last one is a minute old and
// fewer than otpHourlyLimit were sent in the last hour (recent, newest
// first, covers that hour). Sends are paced because every one costs the
// operator money and can be used to pester the user's phone.
func resendLimit(now time.Time, recent []time.Time) error {
	var wait time.Duration
	if len(recent) > 0 && now.Sub(recent[0]) < otpResendGap {
		wait = otpResendGap - now.Sub(recent[0])
	}
	if len(recent) >= otpHourlyLimit {
		wait = max(wait, recent[otpHourlyLimit-1].Add(time.Hour).Sub(now))
	}
	if wait <= 0 {
		return nil
	}
	e := parley.Errorf(parley.CodeRateLimited, "a code was sent recently; wait before asking for another")
	e.RetryAfter = max(wait.Round(time.Second), time.Second)
	return e
}

// issue makes a code, records its MAC within the resend limits and sends
// it. The code exists in the clear only here and in the message.
func (o *OTP) issue(ctx context.Context, u *parley.User, purpose parley.OTPPurpose, channel, binding, to string,
	payload []byte, m parley.RequestMeta) (*parley.OTPSent, error) {
	if err := o.available(channel); err != nil {
		return nil, err
	}
	key, err := o.macKey(ctx)
	if err != nil {
		return nil, err
	}
	now := o.s.now()
	code := newOTPCode()
	c := &parley.OTPChallenge{ID: newID("otp_"), UserID: u.ID, Purpose: purpose, Channel: channel, Binding: binding,
		Payload: payload, CreatedAt: now, ExpiresAt: now.Add(otpTTL)}
	c.CodeMAC = otpMAC(key, c, code)
	masked := maskAddress(channel, to)
	err = o.s.store.CreateOTPChallenge(ctx, c, now.Add(-time.Hour), func(recent []time.Time) error {
		return resendLimit(now, recent)
	})
	if err != nil {
		if parley.ErrorCode(err) == parley.CodeRateLimited {
			_ = o.s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.otp_send",
				SourceIP: m.SourceIP, Result: parley.ResultDenied, Reason: string(purpose) + " " + channel + ": resend limit"})
		}
		return nil, err
	}
	n := otpMessage(channel, purpose, code, o.s.cfg.TOTPIssuer)
	n.To = to
	if err := o.notify.Send(ctx, n); err != nil {
		// Providers never put the message in their errors; the code is
		// not logged (D6).
		o.s.log.WarnContext(ctx, "one-time code not delivered", "channel", channel, "user", u.ID, "err", err)
		_ = o.s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.otp_send",
			Target: c.ID, SourceIP: m.SourceIP, Result: parley.ResultFailure, Reason: string(purpose) + " " + channel + " to " + masked + ": provider failed"})
		return nil, parley.Errorf(parley.CodeUnavailable, "the code could not be sent; try again later or use another method")
	}
	_ = o.s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.otp_send",
		Target: c.ID, SourceIP: m.SourceIP, Result: parley.ResultSuccess, Reason: string(purpose) + " " + channel + " to " + masked})
	return &parley.OTPSent{Channel: channel, SentTo: masked, ExpiresAt: c.ExpiresAt}, nil
}

// otpMessage words a code for its purpose. The text says what the code is
// for, so that a code requested by an attacker is recognised as such.
func otpMessage(channel string, purpose parley.OTPPurpose, code, service string) parley.Notification {
	if service == "" {
		service = "Parley"
	}
	what := map[parley.OTPPurpose]string{
		parley.OTPLogin:   "sign-in",
		parley.OTPStepUp:  "confirmation of a sensitive operation",
		parley.OTPContact: "verification of this address",
	}[purpose]
	warn := "If you did not ask for it, someone may know your password: change it and tell your security team."
	if purpose == parley.OTPContact {
		warn = "If you did not ask for it, ignore this message."
	}
	if channel == parley.ChannelSMS {
		return parley.Notification{Channel: channel,
			Body: fmt.Sprintf("%s code %s for %s. Valid 5 minutes. Never share it. %s", service, code, what, warn)}
	}
	return parley.Notification{Channel: channel, Subject: service + " code for " + what,
		Body: fmt.Sprintf("Your %s code for %s is:\n\n    %s\n\nIt is valid for 5 minutes and works once. Never share it: %s staff will never ask for it.\n\n%s\n",
			service, what, code, service, warn)}
}

// check verifies a code against the newest challenge of this purpose,
// channel and binding, and uses it up. Each refusal names its reason for
// the audit trail; callers answer the client uniformly (A9).
func (o *OTP) check(ctx context.Context, u *parley.User, purpose parley.OTPPurpose, channel, binding, code string,
	onMatch func(c *parley.OTPChallenge)) error {
	fail := func(reason string) error { return parley.Errorf(parley.CodeUnauthenticated, "%s", reason) }
	c, err := o.s.store.LatestOTPChallenge(ctx, u.ID, purpose, channel, binding)
	if parley.IsNotFound(err) {
		return fail("no code was sent")
	}
	if err != nil {
		return err
	}
	now := o.s.now()
	switch {
	case !c.UsedAt.IsZero():
		return fail("code already used")
	case !now.Before(c.ExpiresAt):
		return fail("code expired")
	case c.Attempts >= otpMaxAttempts:
		return fail("too many wrong codes")
	}
	key, err := o.macKey(ctx)
	if err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if len(code) > 16 {
		code = code[:16]
	}
	if !hmac.Equal(otpMAC(key, c, code), c.CodeMAC) {
		if _, err := o.s.store.IncrementOTPAttempts(ctx, c.ID); err != nil && !parley.IsNotFound(err) {
			return err
		}
		return fail("wrong code")
	}
	if err := o.s.store.ConsumeOTPChallenge(ctx, c.ID, now, otpMaxAttempts); err != nil {
		if parley.IsNotFound(err) {
			return fail("code already used") // a concurrent use won
		}
		return err
	}
	if onMatch != nil {
		onMatch(c)
	}
	return nil
}

// verifiedAddress opens the user's verified address on channel.
func (o *OTP) verifiedAddress(ctx context.Context, u *parley.User, channel string) (string, error) {
	contacts, err := o.s.store.Contacts(ctx, u.ID)
	if err != nil {
		return "", err
	}
	for _, c := range contacts {
		if c.Channel == channel && c.Verified {
			return o.openAddress(ctx, c)
		}
	}
	return "", parley.Errorf(parley.CodeInvalid, "no verified %s address on this account", channel)
}

// SendLoginOTP sends a code for a pending login (A1); the client then
// completes the login with POST /auth/mfa, method email_otp or sms_otp.
func (o *OTP) SendLoginOTP(ctx context.Context, mfaToken, channel string, m parley.RequestMeta) (*parley.OTPSent, error) {
	sess, u, err := o.s.pendingLogin(ctx, mfaToken, m)
	if err != nil {
		return nil, err
	}
	to, err := o.codeAddress(ctx, u, channel)
	if err != nil {
		return nil, err
	}
	return o.issue(ctx, u, parley.OTPLogin, channel, sess.ID, to, nil, m)
}

// codeAddress is where a login or step-up code for u goes on channel: the
// channel must be configured, codes allowed for the account (A10), and the
// address verified.
func (o *OTP) codeAddress(ctx context.Context, u *parley.User, channel string) (string, error) {
	if err := o.available(channel); err != nil {
		return "", err
	}
	allowed, err := o.codesAllowed(ctx, u)
	if err != nil {
		return "", err
	}
	if !allowed {
		return "", notForThisAccount()
	}
	return o.verifiedAddress(ctx, u, channel)
}

// SendStepUpOTP sends a code that steps up the actor's session (A6).
func (o *OTP) SendStepUpOTP(ctx context.Context, a *parley.Actor, channel string, m parley.RequestMeta) (*parley.OTPSent, error) {
	u, err := o.s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	to, err := o.codeAddress(ctx, u, channel)
	if err != nil {
		return nil, err
	}
	return o.issue(ctx, u, parley.OTPStepUp, channel, a.SessionID, to, nil, m)
}

// StepUpOTP verifies a step-up code and replaces the session with one that
// counts as verified now (A6, A5), like every other factor (finishStepUp).
func (o *OTP) StepUpOTP(ctx context.Context, a *parley.Actor, channel, code string, m parley.RequestMeta) (*parley.Issued, error) {
	if err := checkChannel(channel); err != nil {
		return nil, err
	}
	u, err := o.s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if err := o.s.throttle.allow(m.SourceIP, "stepup:"+string(u.ID)); err != nil {
		return nil, err
	}
	allowed, err := o.codesAllowed(ctx, u)
	if err != nil {
		return nil, err
	}
	verr := notForThisAccount()
	if allowed {
		verr = o.check(ctx, u, parley.OTPStepUp, channel, a.SessionID, code, nil)
	}
	if verr != nil {
		if parley.ErrorCode(verr) == parley.CodeInternal {
			return nil, verr
		}
		o.s.throttle.failed(m.SourceIP, "stepup:"+string(u.ID))
		_ = o.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.step_up",
			SourceIP: m.SourceIP, Result: parley.ResultFailure, Reason: channelMethod(channel) + ": " + parley.ErrorMessage(verr)})
		return nil, parley.Errorf(parley.CodeUnauthenticated, "invalid credentials")
	}
	o.s.throttle.succeeded("stepup:" + string(u.ID))
	return o.s.finishStepUp(ctx, a, channelMethod(channel), m)
}

// Sweep expires unanswered push requests (auditing each) and deletes old
// codes and requests. The node runs it every minute.
func (o *OTP) Sweep(ctx context.Context) error {
	now := o.s.now()
	expired, err := o.s.store.ExpirePushRequests(ctx, now)
	if err != nil {
		return err
	}
	for _, p := range expired {
		o.pushExpired(ctx, p)
	}
	if _, err := o.s.store.DeleteOTPChallenges(ctx, now.Add(-otpKeep)); err != nil {
		return err
	}
	_, err = o.s.store.DeletePushRequests(ctx, now.Add(-time.Hour))
	return err
}
