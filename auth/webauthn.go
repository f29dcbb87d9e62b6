package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/crypt"
)

// Passkeys (WebAuthn, A1) on github.com/go-webauthn/webauthn. A passkey is
// a cryptographic second factor (A10): it counts as MFA enrolment for the
// gate of administrative roles (A2), completes a login that passed the
// password (A9), and steps up a session for sensitive operations (A6).
//
// The ceremonies end in the steps every factor shares (factors.go):
// pendingLogin, failSecondFactor and finishLogin for login, finishStepUp for
// step-up, so that a passkey fails, counts and succeeds exactly like a
// TOTP code.

// MethodWebAuthn names passkeys in the methods a login offers and in audit
// records.
const MethodWebAuthn = "webauthn"

const (
	// webauthnCeremonyTTL bounds how long a challenge can be answered. It
	// equals the pending-login lifetime of A9 and the timeout the options
	// tell the browser.
	webauthnCeremonyTTL = 5 * time.Minute
	// maxWebAuthnCredentials bounds a user's passkeys, and with them the
	// size of every assertion's allowCredentials list.
	maxWebAuthnCredentials = 10
	maxCredentialNameBytes = 64
	defaultCredentialName  = "Passkey"
)

// WebAuthn is the passkey service (parley.WebAuthnService). It shares the
// store, keys, clock, throttle and audit of the Service it extends.
type WebAuthn struct {
	s  *Service
	rp *webauthn.WebAuthn
}

var _ parley.WebAuthnService = (*WebAuthn)(nil)

// NewWebAuthn builds the passkey service from s's configuration: the
// relying-party ID and the origins the browser may report
// (Config.WebAuthnRPID, Config.WebAuthnOrigins). Every origin must be
// https and its host must be the RP ID or under it; otherwise no browser
// could complete a ceremony, or one could for a host the operator did not
// mean.
func NewWebAuthn(s *Service) (*WebAuthn, error) {
	rpID := strings.ToLower(strings.TrimSpace(s.cfg.WebAuthnRPID))
	if rpID == "" {
		rpID = "localhost"
	}
	origins, err := checkOrigins(rpID, s.cfg.WebAuthnOrigins)
	if err != nil {
		return nil, err
	}
	name := s.cfg.TOTPIssuer // the name users see for this service, in every authenticator
	if name == "" {
		name = "Parley"
	}
	ttl := webauthnCeremonyTTL
	rp, err := webauthn.New(&webauthn.Config{
		RPID: rpID, RPDisplayName: name, RPOrigins: origins,
		// No attestation: Parley does not restrict authenticator models
		// (no metadata service, P3: no outbound calls), and asking for it
		// only costs users a privacy prompt.
		AttestationPreference: protocol.PreferNoAttestation,
		// Expiry is enforced against the service's clock (takeCeremony),
		// not the library's wall clock, so that it is testable and one
		// rule; these values only tell the browser how long to wait.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: ttl, TimeoutUVD: ttl},
			Registration: webauthn.TimeoutConfig{Timeout: ttl, TimeoutUVD: ttl},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return &WebAuthn{s: s, rp: rp}, nil
}

// RPID returns the relying-party ID in use.
func (w *WebAuthn) RPID() string { return w.rp.Config.RPID }

// Origins returns the origins accepted in client data.
func (w *WebAuthn) Origins() []string { return slices.Clone(w.rp.Config.RPOrigins) }

// checkOrigins validates and normalises the configured origins.
func checkOrigins(rpID string, origins []string) ([]string, error) {
	if len(origins) == 0 {
		return nil, errors.New("webauthn: no origin configured (set the public URL)")
	}
	if err := protocol.ValidateRPID(rpID); err != nil {
		return nil, fmt.Errorf("webauthn: RP ID %q: %w", rpID, err)
	}
	out := make([]string, 0, len(origins))
	for _, o := range origins {
		u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(o), "/"))
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("webauthn: origin %q must be https://host[:port] (T1)", o)
		}
		host := strings.ToLower(u.Hostname())
		if host != rpID && !strings.HasSuffix(host, "."+rpID) {
			return nil, fmt.Errorf("webauthn: origin %q is not on RP ID %q or a subdomain of it", o, rpID)
		}
		out = append(out, "https://"+strings.ToLower(u.Host))
	}
	return out, nil
}

// hasPasskey reports whether the user has a registered passkey: a second
// factor for the enrolment gate and login (A1, A2).
func (s *Service) hasPasskey(ctx context.Context, id parley.UserID) (bool, error) {
	n, err := s.store.CountWebAuthnCredentials(ctx, id)
	return n > 0, err
}

// waUser adapts a Parley user and its passkeys to the library. The user
// handle is the user ID: random, opaque and free of personal data, as
// WebAuthn §14.6.1 asks.
type waUser struct {
	u     *parley.User
	creds []webauthn.Credential
}

func (w *waUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w *waUser) WebAuthnName() string                       { return w.u.Username }
func (w *waUser) WebAuthnDisplayName() string                { return w.u.DisplayName }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// publicKeyAAD binds a sealed public key to its user and credential ID, so
// a row copied to another user or credential does not open (D7).
func publicKeyAAD(user parley.UserID, credentialID []byte) []byte {
	b := []byte("parley/webauthn/v1\x00" + string(user) + "\x00")
	return append(b, credentialID...)
}

// loadUser returns u with its passkeys in the library's form. A row whose
// sealed public key does not open was written or moved behind the server's
// back: it is left out (it can never sign anyone in) and audited (D7).
func (w *WebAuthn) loadUser(ctx context.Context, u *parley.User) (*waUser, []*parley.WebAuthnCredential, error) {
	stored, err := w.s.store.ListWebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	wu := &waUser{u: u}
	var kept []*parley.WebAuthnCredential
	for _, c := range stored {
		pk, err := crypt.OpenSecret(ctx, w.s.keys, c.PublicKeySealed, publicKeyAAD(u.ID, c.CredentialID))
		if err != nil {
			w.s.log.ErrorContext(ctx, "passkey record does not verify; ignoring it", "user", u.ID, "credential", c.ID)
			_ = w.s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "auth.webauthn_integrity",
				Target: c.ID, Result: parley.ResultFailure, Reason: "sealed public key does not open: record altered outside the server"})
			continue
		}
		wu.creds = append(wu.creds, libraryCredential(c, pk))
		kept = append(kept, c)
	}
	return wu, kept, nil
}

// libraryCredential converts a stored credential and its opened public key.
func libraryCredential(c *parley.WebAuthnCredential, publicKey []byte) webauthn.Credential {
	flags := protocol.FlagUserPresent
	if c.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: c.CredentialID, PublicKey: publicKey,
		AttestationType: c.AttestationType, AttestationFormat: c.AttestationFormat,
		Transport: transports, Flags: webauthn.NewCredentialFlags(flags),
		Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
	}
}

// knownTransports are the transport hints WebAuthn defines; anything else a
// client sends is dropped rather than stored and echoed back.
var knownTransports = []string{"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}

func cleanTransports(in []protocol.AuthenticatorTransport) []string {
	var out []string
	for _, t := range in {
		if s := string(t); slices.Contains(knownTransports, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// userVerification is what a ceremony demands of the authenticator: for a
// holder of an administrative role the user must be verified (PIN or
// biometrics), not merely present; the passkey is then a factor in itself
// and not just something the admin has (A2). Others are asked, not forced.
func userVerification(roles []parley.Role) protocol.UserVerificationRequirement {
	if authz.RequiresMFA(roles) {
		return protocol.VerificationRequired
	}
	return protocol.VerificationPreferred
}

// credentialName checks a user-chosen name: short, printable, one line.
func credentialName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return defaultCredentialName, nil
	}
	if len(name) > maxCredentialNameBytes || !utf8.ValidString(name) ||
		strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) }) >= 0 {
		return "", parley.Errorf(parley.CodeInvalid, "name must be at most %d bytes of printable text", maxCredentialNameBytes)
	}
	return name, nil
}

// ceremonyFailed is the error of a ceremony that did not verify. Its
// message is the real reason, for the audit trail; callers turn it into
// the uniform answer (A9).
func ceremonyFailed(format string, args ...any) error {
	return parley.Errorf(parley.CodeUnauthenticated, format, args...)
}

// libraryReason extracts a bounded reason from a go-webauthn error for the
// audit trail (never for the caller, A9): its description and, where the
// library gives one, the specific check that failed ("RP Hash mismatch",
// "User verification required…").
func libraryReason(err error) string {
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Details == "" {
		return "verification failed"
	}
	r := pe.Details
	if pe.DevInfo != "" {
		r += " (" + pe.DevInfo + ")"
	}
	// DevInfo may quote client data (the origin it claimed): keep it one
	// printable line, so it cannot forge lines in a log or SIEM (I3).
	r = strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return '?'
		}
		return c
	}, strings.ToValidUTF8(r, "?"))
	return truncate(r, 200)
}

// Credentials lists the caller's passkeys (never their keys).
func (w *WebAuthn) Credentials(ctx context.Context, a *parley.Actor) ([]*parley.WebAuthnCredential, error) {
	return w.s.store.ListWebAuthnCredentials(ctx, a.UserID)
}

// DeleteCredential removes one of the caller's passkeys. It is an MFA
// change: step-up (A6; the router asks too, this does not rely on it),
// audited before the change and refused if the trail cannot be written
// (L5), and the caller's other sessions end (A5). A user whose roles,
// department or policy demand MFA cannot remove their last second factor
// (A2, A10); another user's passkey is not_found (Z6).
func (w *WebAuthn) DeleteCredential(ctx context.Context, a *parley.Actor, id string, m parley.RequestMeta) error {
	if err := authz.Check(a, authz.PermCredentials); err != nil {
		return err
	}
	if err := w.s.RequireStepUp(a); err != nil {
		return err
	}
	u, err := w.s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return err
	}
	keepLast := false
	if !u.MFAEnrolled {
		if keepLast, err = w.s.mfaRequired(ctx, u); err != nil {
			return err
		}
		pol, err := w.s.passwordPolicy(ctx)
		if err != nil {
			return err
		}
		keepLast = keepLast || pol.MFAForAll // mlps3 (A10), as the enrolment gate has it
	}
	if len(id) > 64 {
		return parley.Errorf(parley.CodeNotFound, "passkey not found")
	}
	list, err := w.s.store.ListWebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(c *parley.WebAuthnCredential) bool { return c.ID == id }) {
		return parley.Errorf(parley.CodeNotFound, "passkey not found")
	}
	if keepLast && len(list) <= 1 {
		return w.refuseLastFactor(ctx, a, id, m)
	}
	if err := w.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.webauthn_remove",
		Target: id, SourceIP: m.SourceIP, Result: parley.ResultSuccess}); err != nil {
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable") // L5: fail closed
	}
	if err := w.s.store.DeleteWebAuthnCredential(ctx, u.ID, id, keepLast); err != nil {
		if parley.ErrorCode(err) == parley.CodeConflict { // lost a race with another deletion
			return w.refuseLastFactor(ctx, a, id, m)
		}
		if parley.IsNotFound(err) {
			return parley.Errorf(parley.CodeNotFound, "passkey not found")
		}
		return err
	}
	ended, err := w.s.store.DeleteUserSessions(ctx, u.ID, a.SessionID)
	if err != nil {
		return err
	}
	w.s.endSessions(ended...)
	return nil
}

func (w *WebAuthn) refuseLastFactor(ctx context.Context, a *parley.Actor, id string, m parley.RequestMeta) error {
	err := parley.Errorf(parley.CodeConflict, "this is your last second factor and your account requires MFA: add another one first")
	_ = w.s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.webauthn_remove",
		Target: id, SourceIP: m.SourceIP, Result: parley.ResultDenied, Reason: "last second factor"})
	return err
}
