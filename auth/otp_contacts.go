package auth

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/crypt"
)

// Contacts: the e-mail address and phone number one-time codes go to. They
// are personal data: optional (P2), sealed at rest under the keyring with
// the user and channel as AAD (D2), shown to their owner only masked, and
// never written to the audit trail or the log in full. A user adds or
// changes one with step-up (A6) and proves it with a code sent there; an
// administrator may set one directly (also with step-up), which counts as
// verified. Adding, changing or removing one is an MFA change: the user's
// other sessions end (A5).

const maxEmailLen = 254

var errNoPayload = errors.New("verification challenge carries no address")

func contactAAD(user parley.UserID, channel string) []byte {
	return []byte("parley/contact/v1\x00" + string(user) + "\x00" + channel)
}

// normaliseAddress checks an address for its channel and returns it in
// canonical form: a bare e-mail address (no display name, no comment), or
// an E.164 number (+ and 7–15 digits; spaces, dots, dashes and brackets
// dropped).
func normaliseAddress(channel, addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	switch channel {
	case parley.ChannelEmail:
		bad := parley.Errorf(parley.CodeInvalid, "address must be a plain e-mail address such as name@example.com")
		if addr == "" || len(addr) > maxEmailLen || strings.ContainsFunc(addr, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return "", bad
		}
		a, err := mail.ParseAddress(addr)
		if err != nil || a.Address != addr || a.Name != "" || !strings.Contains(addr, "@") {
			return "", bad
		}
		return addr, nil
	case parley.ChannelSMS:
		n := strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(addr)
		if len(n) < 8 || len(n) > 16 || n[0] != '+' || n[1] == '0' || strings.Trim(n[1:], "0123456789") != "" {
			return "", parley.Errorf(parley.CodeInvalid, "address must be a phone number in international form, e.g. +41 44 668 18 00")
		}
		return n, nil
	}
	return "", checkChannel(channel)
}

// maskAddress shows enough of an address to recognise it and not enough to
// harvest it: "a***@example.com", "+*******1800".
func maskAddress(channel, addr string) string {
	if channel == parley.ChannelSMS {
		if len(addr) <= 5 {
			return "+****"
		}
		return "+" + strings.Repeat("*", len(addr)-5) + addr[len(addr)-4:]
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 1 {
		return "***"
	}
	return addr[:1] + "***" + addr[at:]
}

func (o *OTP) sealAddress(ctx context.Context, user parley.UserID, channel, addr string) ([]byte, error) {
	sealed, err := crypt.SealSecret(ctx, o.s.keys, []byte(addr), contactAAD(user, channel))
	if err != nil {
		return nil, parley.Internal("auth.sealAddress", err)
	}
	return sealed, nil
}

func (o *OTP) openAddress(ctx context.Context, c *parley.Contact) (string, error) {
	return o.openSealedAddress(ctx, c.UserID, c.Channel, c.AddressSealed)
}

func (o *OTP) openSealedAddress(ctx context.Context, user parley.UserID, channel string, sealed []byte) (string, error) {
	b, err := crypt.OpenSecret(ctx, o.s.keys, sealed, contactAAD(user, channel))
	if err != nil {
		return "", parley.Internal("auth.openAddress", err)
	}
	return string(b), nil
}

// Contacts lists the actor's addresses, masked.
func (o *OTP) Contacts(ctx context.Context, a *parley.Actor) ([]parley.ContactInfo, error) {
	list, err := o.s.store.Contacts(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]parley.ContactInfo, 0, len(list))
	for _, c := range list {
		addr, err := o.openAddress(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, parley.ContactInfo{Channel: c.Channel, Address: maskAddress(c.Channel, addr), Verified: c.Verified})
	}
	return out, nil
}

// SetContact sends a verification code to a new address. The address is
// kept, sealed, in the code's challenge; the user's current address on
// that channel keeps working until ConfirmContact. The route requires
// step-up (A6): otherwise a stolen session could redirect the user's codes.
func (o *OTP) SetContact(ctx context.Context, a *parley.Actor, channel, address string, m parley.RequestMeta) (*parley.OTPSent, error) {
	if err := o.available(channel); err != nil {
		return nil, err
	}
	addr, err := normaliseAddress(channel, address)
	if err != nil {
		return nil, err
	}
	u, err := o.s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	sealed, err := o.sealAddress(ctx, u.ID, channel, addr)
	if err != nil {
		return nil, err
	}
	return o.issue(ctx, u, parley.OTPContact, channel, string(u.ID), addr, sealed, m)
}

// ConfirmContact stores the address the code was sent to, verified, and
// ends the user's other sessions: a new factor is an MFA change (A5).
func (o *OTP) ConfirmContact(ctx context.Context, a *parley.Actor, channel, code string, m parley.RequestMeta) (*parley.ContactInfo, error) {
	if err := checkChannel(channel); err != nil {
		return nil, err
	}
	u, err := o.s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if err := o.s.throttle.allow(m.SourceIP, "contact:"+string(u.ID)); err != nil {
		return nil, err
	}
	var sealed []byte
	verr := o.check(ctx, u, parley.OTPContact, channel, string(u.ID), code, func(c *parley.OTPChallenge) { sealed = c.Payload })
	if verr == nil && sealed == nil {
		verr = parley.Internal("auth.ConfirmContact", errNoPayload)
	}
	if verr != nil {
		if parley.ErrorCode(verr) == parley.CodeInternal {
			return nil, verr
		}
		o.s.throttle.failed(m.SourceIP, "contact:"+string(u.ID))
		_ = o.s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.contact_verify",
			Target: channel, SourceIP: m.SourceIP, Result: parley.ResultFailure, Reason: parley.ErrorMessage(verr)})
		return nil, parley.Errorf(parley.CodeUnauthenticated, "invalid code")
	}
	o.s.throttle.succeeded("contact:" + string(u.ID))
	addr, err := o.openSealedAddress(ctx, u.ID, channel, sealed)
	if err != nil {
		return nil, err
	}
	if err := o.s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.contact_verify",
		Target: channel, SourceIP: m.SourceIP, Result: parley.ResultSuccess, Reason: maskAddress(channel, addr)}); err != nil {
		return nil, parley.Errorf(parley.CodeUnavailable, "audit trail unavailable") // L5: fail closed
	}
	if err := o.s.store.PutContact(ctx, &parley.Contact{UserID: u.ID, Channel: channel, AddressSealed: sealed,
		Verified: true, UpdatedAt: o.s.now()}); err != nil {
		return nil, err
	}
	if err := o.endOtherSessions(ctx, u.ID, a.SessionID); err != nil {
		return nil, err
	}
	return &parley.ContactInfo{Channel: channel, Address: maskAddress(channel, addr), Verified: true}, nil
}

// DeleteContact removes an address (step-up, by route) and ends the user's
// other sessions.
func (o *OTP) DeleteContact(ctx context.Context, a *parley.Actor, channel string) error {
	if err := checkChannel(channel); err != nil {
		return err
	}
	if err := o.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.contact_delete",
		Target: channel, SourceIP: a.SourceIP, Result: parley.ResultSuccess}); err != nil {
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := o.s.store.DeleteContact(ctx, a.UserID, channel); err != nil {
		if parley.IsNotFound(err) {
			return parley.Errorf(parley.CodeNotFound, "no %s address on this account", channel)
		}
		return err
	}
	return o.endOtherSessions(ctx, a.UserID, a.SessionID)
}

// SetUserContact sets another user's address as verified, on an
// administrator's word (e.g. from HR records). It needs the permission to
// manage users (route) and a fresh second factor; it is audited before it
// happens (L5) and ends the user's sessions, like any MFA change (A5).
func (o *OTP) SetUserContact(ctx context.Context, a *parley.Actor, user parley.UserID, channel, address string) (*parley.ContactInfo, error) {
	if err := authz.Check(a, authz.PermUsersCreate); err != nil {
		return nil, err
	}
	if err := o.s.RequireStepUp(a); err != nil {
		return nil, err
	}
	if err := o.available(channel); err != nil {
		return nil, err
	}
	addr, err := normaliseAddress(channel, address)
	if err != nil {
		return nil, err
	}
	u, err := o.s.store.UserByID(ctx, user)
	if err != nil {
		if parley.IsNotFound(err) {
			return nil, parley.Errorf(parley.CodeNotFound, "user not found")
		}
		return nil, err
	}
	sealed, err := o.sealAddress(ctx, u.ID, channel, addr)
	if err != nil {
		return nil, err
	}
	if err := o.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "user.contact_set",
		Target: string(u.ID), SourceIP: a.SourceIP, Result: parley.ResultSuccess, Reason: channel + " " + maskAddress(channel, addr)}); err != nil {
		return nil, parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := o.s.store.PutContact(ctx, &parley.Contact{UserID: u.ID, Channel: channel, AddressSealed: sealed,
		Verified: true, UpdatedAt: o.s.now()}); err != nil {
		return nil, err
	}
	except := ""
	if u.ID == a.UserID {
		except = a.SessionID
	}
	if err := o.endOtherSessions(ctx, u.ID, except); err != nil {
		return nil, err
	}
	return &parley.ContactInfo{Channel: channel, Address: maskAddress(channel, addr), Verified: true}, nil
}

func (o *OTP) endOtherSessions(ctx context.Context, user parley.UserID, except string) error {
	ended, err := o.s.store.DeleteUserSessions(ctx, user, except)
	if err != nil {
		return err
	}
	o.s.endSessions(ended...)
	return nil
}
