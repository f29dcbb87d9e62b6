package auth

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/crypt"
)

// The three WebAuthn ceremonies: registration, login as a second factor,
// and step-up. Each begin stores its challenge server-side, bound to the
// session that asked, its user and its purpose (putCeremony); each finish
// takes that challenge exactly once, whatever the outcome (takeCeremony),
// so that an assertion cannot be replayed, redirected to another session
// or used after five minutes.

// putCeremony stores the library's session data for sessionID and purpose,
// replacing an earlier ceremony of the same kind.
func (w *WebAuthn) putCeremony(ctx context.Context, sessionID string, purpose parley.WebAuthnPurpose,
	user parley.UserID, sd *webauthn.SessionData) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return parley.Internal("auth.webauthn", err)
	}
	now := w.s.now()
	return w.s.store.PutWebAuthnCeremony(ctx, &parley.WebAuthnCeremony{SessionID: sessionID, Purpose: purpose,
		UserID: user, Data: data, CreatedAt: now, ExpiresAt: now.Add(webauthnCeremonyTTL)})
}

// takeCeremony consumes the session's ceremony of purpose. A ceremony that
// is missing (never begun, already answered, replaced), belongs to another
// user or has expired fails like a bad signature.
func (w *WebAuthn) takeCeremony(ctx context.Context, sessionID string, purpose parley.WebAuthnPurpose,
	user parley.UserID) (*webauthn.SessionData, error) {
	c, err := w.s.store.TakeWebAuthnCeremony(ctx, sessionID, purpose)
	if parley.IsNotFound(err) {
		return nil, ceremonyFailed("no pending %s challenge (not begun, already answered or replaced)", purpose)
	}
	if err != nil {
		return nil, err
	}
	if c.UserID != user {
		return nil, ceremonyFailed("challenge was issued to another user")
	}
	if !w.s.now().Before(c.ExpiresAt) {
		return nil, ceremonyFailed("challenge expired")
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return nil, parley.Internal("auth.webauthn", err)
	}
	return &sd, nil
}

// secondFactors reports whether u already has a second factor: TOTP or a
// passkey.
func (w *WebAuthn) secondFactors(ctx context.Context, u *parley.User) (bool, error) {
	if u.MFAEnrolled {
		return true, nil
	}
	return w.s.hasPasskey(ctx, u.ID)
}

// registrationAllowed checks that the actor may add a passkey now. Adding a
// factor is an MFA change and needs step-up (A6) — except the first one: a
// user without any second factor has nothing to step up with, and an
// administrator held at the enrolment gate must be able to enrol a passkey
// instead of TOTP (A2, A4).
func (w *WebAuthn) registrationAllowed(ctx context.Context, a *parley.Actor) (*parley.User, error) {
	if err := authz.Check(a, authz.PermCredentials); err != nil {
		return nil, err
	}
	u, err := w.s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	has, err := w.secondFactors(ctx, u)
	if err != nil {
		return nil, err
	}
	if has {
		if err := w.s.RequireStepUp(a); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// BeginRegistration returns creation options for a new passkey: the
// caller's existing ones are excluded (one authenticator, one
// registration), a discoverable credential is preferred (a passkey), and
// user verification is required of administrators.
func (w *WebAuthn) BeginRegistration(ctx context.Context, a *parley.Actor, m parley.RequestMeta) (json.RawMessage, error) {
	u, err := w.registrationAllowed(ctx, a)
	if err != nil {
		return nil, err
	}
	wu, _, err := w.loadUser(ctx, u)
	if err != nil {
		return nil, err
	}
	if n, err := w.s.store.CountWebAuthnCredentials(ctx, u.ID); err != nil {
		return nil, err
	} else if n >= maxWebAuthnCredentials {
		return nil, parley.Errorf(parley.CodeConflict, "at most %d passkeys per account; remove one first", maxWebAuthnCredentials)
	}
	creation, sd, err := w.rp.BeginRegistration(wu,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: userVerification(u.Roles),
		}),
		webauthn.WithExclusions(webauthn.Credentials(wu.creds).CredentialDescriptors()))
	if err != nil {
		return nil, parley.Internal("auth.BeginRegistration", err)
	}
	if err := w.putCeremony(ctx, a.SessionID, parley.WebAuthnRegistration, u.ID, sd); err != nil {
		return nil, err
	}
	return marshalOptions(creation)
}

// FinishRegistration verifies the new credential against the pending
// challenge, stores it with its public key sealed (A7, D7), and — an MFA
// change — ends every session of the user, this one included, issuing a
// replacement that counts as MFA-verified now (A5, like TOTP enrolment).
func (w *WebAuthn) FinishRegistration(ctx context.Context, a *parley.Actor, name string, credential json.RawMessage,
	m parley.RequestMeta) (*parley.WebAuthnRegistered, error) {
	name, err := credentialName(name)
	if err != nil {
		return nil, err
	}
	u, err := w.registrationAllowed(ctx, a)
	if err != nil {
		return nil, err
	}
	fail := func(verr error) (*parley.WebAuthnRegistered, error) {
		if parley.ErrorCode(verr) == parley.CodeInternal {
			return nil, verr
		}
		_ = w.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.webauthn_register",
			SourceIP: m.SourceIP, Result: parley.ResultFailure, Reason: parley.ErrorMessage(verr)})
		return nil, parley.Errorf(parley.CodeInvalid, "the passkey could not be verified; start again")
	}
	sd, err := w.takeCeremony(ctx, a.SessionID, parley.WebAuthnRegistration, u.ID)
	if err != nil {
		return fail(err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return fail(ceremonyFailed("malformed attestation: %s", libraryReason(err)))
	}
	wu, _, err := w.loadUser(ctx, u)
	if err != nil {
		return nil, err
	}
	cred, err := w.rp.CreateCredential(wu, *sd, parsed)
	if err != nil {
		return fail(ceremonyFailed("attestation rejected: %s", libraryReason(err)))
	}
	if n, err := w.s.store.CountWebAuthnCredentials(ctx, u.ID); err != nil {
		return nil, err
	} else if n >= maxWebAuthnCredentials {
		return nil, parley.Errorf(parley.CodeConflict, "at most %d passkeys per account; remove one first", maxWebAuthnCredentials)
	}
	// One authenticator credential, one account: checked before the audit
	// record of success (the unique index still settles a race).
	if _, err := w.s.store.WebAuthnCredentialByCredentialID(ctx, cred.ID); err == nil {
		return fail(ceremonyFailed("credential ID already registered"))
	} else if !parley.IsNotFound(err) {
		return nil, err
	}
	sealed, err := crypt.SealSecret(ctx, w.s.keys, cred.PublicKey, publicKeyAAD(u.ID, cred.ID))
	if err != nil {
		return nil, parley.Internal("auth.FinishRegistration", err)
	}
	handle, _ := crypt.NewToken()
	now := w.s.now()
	rec := &parley.WebAuthnCredential{
		ID: "wa_" + handle[:22], UserID: u.ID, CredentialID: cred.ID, PublicKeySealed: sealed,
		AttestationType: cred.AttestationType, AttestationFormat: cred.AttestationFormat,
		SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID, Transports: cleanTransports(cred.Transport),
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, UserVerified: cred.Flags.UserVerified,
		Name: name, CreatedAt: now,
	}
	// L5: an MFA change is recorded first and refused if it cannot be.
	if err := w.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.webauthn_register",
		Target: rec.ID, SourceIP: m.SourceIP, Result: parley.ResultSuccess,
		Reason: fmt.Sprintf("name=%q uv=%v", name, rec.UserVerified)}); err != nil {
		return nil, parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := w.s.store.CreateWebAuthnCredential(ctx, rec); err != nil {
		if parley.ErrorCode(err) == parley.CodeConflict {
			return fail(ceremonyFailed("credential ID already registered"))
		}
		return nil, err
	}
	ended, err := w.s.store.DeleteUserSessions(ctx, u.ID, "")
	if err != nil {
		return nil, err
	}
	w.s.endSessions(ended...)
	issued, err := w.s.newSession(ctx, u.ID, parley.SessionActive, now, m)
	if err != nil {
		return nil, err
	}
	return &parley.WebAuthnRegistered{Credential: rec, Issued: issued}, nil
}

// beginAssertion returns request options listing u's passkeys and stores
// the challenge for sessionID and purpose.
func (w *WebAuthn) beginAssertion(ctx context.Context, u *parley.User, sessionID string, purpose parley.WebAuthnPurpose) (json.RawMessage, error) {
	wu, _, err := w.loadUser(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(wu.creds) == 0 {
		return nil, parley.Errorf(parley.CodeInvalid, "no passkey is registered for this account")
	}
	assertion, sd, err := w.rp.BeginLogin(wu, webauthn.WithUserVerification(userVerification(u.Roles)))
	if err != nil {
		return nil, parley.Internal("auth.webauthn", err)
	}
	if err := w.putCeremony(ctx, sessionID, purpose, u.ID, sd); err != nil {
		return nil, err
	}
	return marshalOptions(assertion)
}

// verifyAssertion checks an assertion against the challenge sd and u's
// passkeys: origin, RP ID hash, challenge, signature, user presence and —
// as sd demands — user verification, that the credential is u's, and that
// its signature counter advanced. A counter that did not advance means two
// copies of the private key may exist (a cloned authenticator): the
// assertion is refused and the event audited on its own, for the security
// team (A1, L4).
func (w *WebAuthn) verifyAssertion(ctx context.Context, u *parley.User, sd *webauthn.SessionData, credential json.RawMessage,
	m parley.RequestMeta) error {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return ceremonyFailed("malformed assertion: %s", libraryReason(err))
	}
	wu, stored, err := w.loadUser(ctx, u)
	if err != nil {
		return err
	}
	cred, err := w.rp.ValidateLogin(wu, *sd, parsed)
	if err != nil {
		return ceremonyFailed("assertion rejected: %s", libraryReason(err))
	}
	var rec *parley.WebAuthnCredential
	for _, c := range stored {
		if crypt.ConstantTimeEqual(c.CredentialID, cred.ID) {
			rec = c
		}
	}
	if rec == nil { // the library matched it among wu.creds, built from stored
		return parley.Internal("auth.webauthn", fmt.Errorf("validated credential not among the user's"))
	}
	clone := cred.Authenticator.CloneWarning
	if !clone {
		advanced, err := w.s.store.UseWebAuthnCredential(ctx, rec.ID, cred.Authenticator.SignCount, cred.Flags.BackupState, w.s.now())
		if err != nil {
			return err
		}
		clone = !advanced // another node accepted this counter value first
	}
	if clone {
		reason := fmt.Sprintf("possible cloned authenticator: sign counter %d, stored %d", parsed.Response.AuthenticatorData.Counter, rec.SignCount)
		_ = w.s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.webauthn_clone_suspected",
			Target: rec.ID, SourceIP: m.SourceIP, Result: parley.ResultDenied, Reason: reason})
		return ceremonyFailed("%s", reason)
	}
	return nil
}

func marshalOptions(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, parley.Internal("auth.webauthn", err)
	}
	return b, nil
}

// BeginLogin answers a pending login (A9) with assertion options for the
// user's passkeys. It spends no attempt; an unknown or expired mfa_token
// gets the uniform answer.
func (w *WebAuthn) BeginLogin(ctx context.Context, mfaToken string, m parley.RequestMeta) (json.RawMessage, error) {
	sess, u, err := w.s.pendingLogin(ctx, mfaToken, m)
	if err != nil {
		return nil, err
	}
	return w.beginAssertion(ctx, u, sess.ID, parley.WebAuthnLogin)
}

// FinishLogin completes a pending login with a passkey assertion. Every
// failure — another user's credential, wrong origin or RP ID, a replayed
// or expired challenge, missing user verification, a counter gone
// backwards — counts against the pending login and gets the one answer of
// failSecondFactor, its real reason going to the audit trail only (A9).
func (w *WebAuthn) FinishLogin(ctx context.Context, mfaToken string, credential json.RawMessage, m parley.RequestMeta) (*parley.Issued, error) {
	sess, u, err := w.s.pendingLogin(ctx, mfaToken, m)
	if err != nil {
		return nil, err
	}
	sd, verr := w.takeCeremony(ctx, sess.ID, parley.WebAuthnLogin, u.ID)
	if verr == nil {
		verr = w.verifyAssertion(ctx, u, sd, credential, m)
	}
	if verr != nil {
		return nil, w.s.failSecondFactor(ctx, sess, u, MethodWebAuthn, verr, m)
	}
	return w.s.finishLogin(ctx, sess, u, MethodWebAuthn, m)
}

// BeginStepUp returns assertion options for a signed-in user's step-up.
func (w *WebAuthn) BeginStepUp(ctx context.Context, a *parley.Actor, m parley.RequestMeta) (json.RawMessage, error) {
	u, err := w.s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if err := w.s.throttle.allow(m.SourceIP, "stepup:"+string(u.ID)); err != nil {
		return nil, err
	}
	return w.beginAssertion(ctx, u, a.SessionID, parley.WebAuthnStepUp)
}

// FinishStepUp verifies a passkey assertion and replaces the session with
// one verified now (A6). Failures are throttled and audited like a wrong
// step-up code, with the same answer.
func (w *WebAuthn) FinishStepUp(ctx context.Context, a *parley.Actor, credential json.RawMessage, m parley.RequestMeta) (*parley.Issued, error) {
	u, err := w.s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	key := "stepup:" + string(u.ID)
	if err := w.s.throttle.allow(m.SourceIP, key); err != nil {
		return nil, err
	}
	sd, verr := w.takeCeremony(ctx, a.SessionID, parley.WebAuthnStepUp, u.ID)
	if verr == nil {
		verr = w.verifyAssertion(ctx, u, sd, credential, m)
	}
	if verr != nil {
		if parley.ErrorCode(verr) == parley.CodeInternal {
			return nil, verr
		}
		w.s.throttle.failed(m.SourceIP, key)
		_ = w.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.step_up",
			SourceIP: m.SourceIP, Result: parley.ResultFailure, Reason: MethodWebAuthn + ": " + parley.ErrorMessage(verr)})
		return nil, parley.Errorf(parley.CodeUnauthenticated, "invalid credentials")
	}
	w.s.throttle.succeeded(key)
	return w.s.finishStepUp(ctx, a, MethodWebAuthn, m)
}
