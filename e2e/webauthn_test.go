package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	_ "modernc.org/sqlite" // driver "sqlite", to alter a record behind the server's back

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// Passkeys end to end (A1): every ceremony runs through the public SDK
// against a whole in-process server, with github.com/descope/virtualwebauthn
// playing browser and authenticator (clientDataJSON, authenticator data,
// packed self-attestation, ES256 signatures).

// device is one software authenticator holding one credential, speaking
// for the relying party rp (which a test may falsify).
type device struct {
	t    *testing.T
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

// newDevice returns an authenticator for s's relying party: RP ID
// "localhost" and the origin https://localhost:<port> the node defaults to.
func newDevice(t *testing.T, s *parleytest.Server, opts virtualwebauthn.AuthenticatorOptions) *device {
	t.Helper()
	origins := s.Node.WebAuthn.Origins()
	u, _ := url.Parse(s.URL)
	if s.Node.WebAuthn.RPID() != "localhost" || len(origins) != 1 || origins[0] != "https://localhost:"+u.Port() {
		t.Fatalf("relying party = %s %v, want localhost and https://localhost:%s", s.Node.WebAuthn.RPID(), origins, u.Port())
	}
	return &device{t: t, rp: virtualwebauthn.RelyingParty{ID: "localhost", Name: "Parley", Origin: origins[0]},
		auth: virtualwebauthn.NewAuthenticatorWithOptions(opts), cred: newEC2Credential(t)}
}

// newEC2Credential makes a P-256 credential whose public coordinates are
// both 32 bytes long. virtualwebauthn encodes them with big.Int.Bytes, which
// drops leading zero bytes, so about one key in 64 reaches the server as a
// malformed COSE key (rightly refused): such keys are skipped here.
func newEC2Credential(t *testing.T) virtualwebauthn.Credential {
	t.Helper()
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := k.PublicKey.Bytes() // 0x04 ‖ X ‖ Y, 32 bytes each
		if err != nil {
			t.Fatal(err)
		}
		if pub[1] == 0 || pub[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}

// create answers creation options as navigator.credentials.create would.
func (d *device) create(options json.RawMessage) json.RawMessage {
	d.t.Helper()
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		d.t.Fatalf("creation options: %v (%s)", err, options)
	}
	if opts.RelyingPartyID != "localhost" || d.cred.IsExcludedForAttestation(*opts) {
		d.t.Fatalf("creation options: rp %q, excluded %v", opts.RelyingPartyID, d.cred.IsExcludedForAttestation(*opts))
	}
	return json.RawMessage(virtualwebauthn.CreateAttestationResponse(d.rp, d.auth, d.cred, *opts))
}

// get answers request options as navigator.credentials.get would, with the
// signature counter one higher than last time, as real authenticators do.
func (d *device) get(options json.RawMessage) json.RawMessage {
	d.t.Helper()
	d.cred.Counter++
	return d.getAt(options, d.cred.Counter)
}

// getAt answers with a chosen signature counter (clone simulation).
func (d *device) getAt(options json.RawMessage, counter uint32) json.RawMessage {
	d.t.Helper()
	opts, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		d.t.Fatalf("request options: %v (%s)", err, options)
	}
	c := d.cred
	c.Counter = counter
	return json.RawMessage(virtualwebauthn.CreateAssertionResponse(d.rp, d.auth, c, *opts))
}

// userVerification reads publicKey.userVerification (or
// authenticatorSelection.userVerification) from options.
func userVerification(t *testing.T, options json.RawMessage) string {
	t.Helper()
	var o struct {
		PublicKey struct {
			UserVerification       string `json:"userVerification"`
			AuthenticatorSelection struct {
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	return o.PublicKey.UserVerification + o.PublicKey.AuthenticatorSelection.UserVerification
}

// registerPasskey runs both halves of registration for c with d.
func registerPasskey(ctx context.Context, t *testing.T, c *client.Client, d *device, name string) *wire.WebAuthnRegisterFinishResponse {
	t.Helper()
	opts, err := c.BeginPasskeyRegistration(ctx)
	if err != nil {
		t.Fatalf("register begin: %v", err)
	}
	res, err := c.FinishPasskeyRegistration(ctx, name, d.create(opts))
	if err != nil {
		t.Fatalf("register finish: %v", err)
	}
	return res
}

// passkeyLogin logs username in on a new client, with d as second factor.
func passkeyLogin(ctx context.Context, t *testing.T, s *parleytest.Server, username string, d *device) *client.Client {
	t.Helper()
	c := s.Client()
	res, err := c.Login(ctx, username, parleytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if !res.MFARequired || !slices.Contains(res.Methods, "webauthn") {
		t.Fatalf("login = %+v, want an MFA challenge offering webauthn", res)
	}
	opts, err := c.BeginPasskeyLogin(ctx, res.MFAToken)
	if err != nil {
		t.Fatalf("login begin: %v", err)
	}
	if _, err := c.FinishPasskeyLogin(ctx, res.MFAToken, d.get(opts)); err != nil {
		t.Fatalf("login finish: %v", err)
	}
	return c
}

// pendingLogin returns a client and mfa_token for a login that passed the
// password.
func pendingLogin(ctx context.Context, t *testing.T, s *parleytest.Server, username string) (*client.Client, string) {
	t.Helper()
	c := s.Client()
	res, err := c.Login(ctx, username, parleytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if !res.MFARequired {
		t.Fatalf("login of %s needs no second factor", username)
	}
	return c, res.MFAToken
}

// audited fails unless the audit trail has a record of action whose reason
// contains reason.
func audited(ctx context.Context, t *testing.T, s *parleytest.Server, action, reason string) {
	t.Helper()
	recs, err := s.Node.Store.ListAudit(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Action == action && strings.Contains(r.Reason, reason) {
			return
		}
	}
	t.Errorf("no audit record %s with reason containing %q", action, reason)
}

// TestPasskeyEnrolsAdministrator: an administrator held at the enrolment
// gate (A2) enrols a passkey instead of TOTP, without step-up (there is
// nothing to step up with), with user verification required; the passkey
// lifts the gate, replaces the session (A5) and is the second factor of
// later logins (A1, A9).
func TestPasskeyEnrolsAdministrator(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		c := s.Client()
		if _, err := c.Setup(ctx, wire.SetupRequest{SetupToken: s.SetupToken, Username: "admin", Password: parleytest.Password,
			DisplayName: "Admin"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Login(ctx, "admin", parleytest.Password); err != nil {
			t.Fatal(err)
		}
		_, err := c.Conversations(ctx)
		expectCode(t, err, "mfa_enrollment_required")
		_, err = c.Passkeys(ctx)
		expectCode(t, err, "mfa_enrollment_required") // only enrolment passes the gate

		key := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{})
		opts, err := c.BeginPasskeyRegistration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if uv := userVerification(t, opts); uv != "required" {
			t.Fatalf("admin registration userVerification = %q, want required", uv)
		}
		old := c.Token()
		res, err := c.FinishPasskeyRegistration(ctx, "YubiKey 5", key.create(opts))
		if err != nil {
			t.Fatal(err)
		}
		if res.Token == old || res.Passkey.Name != "YubiKey 5" || !res.Passkey.UserVerified || res.Passkey.PasskeyID == "" {
			t.Fatalf("registration = %+v", res)
		}
		stale, _ := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithToken(old))
		_, err = stale.Me(ctx)
		expectCode(t, err, "unauthenticated") // the pre-enrolment session is gone
		if _, err := c.Conversations(ctx); err != nil {
			t.Fatalf("after enrolling a passkey: %v", err)
		}
		list, err := c.Passkeys(ctx)
		if err != nil || len(list) != 1 || list[0].PasskeyID != res.Passkey.PasskeyID || list[0].LastUsedAt != nil {
			t.Fatalf("passkeys = %+v, %v", list, err)
		}
		audited(ctx, t, s, "auth.webauthn_register", "YubiKey 5")

		// The next login asks for the passkey, and only for it.
		c2, token := pendingLogin(ctx, t, s, "admin")
		_, err = c2.Conversations(ctx)
		expectCode(t, err, "unauthenticated")
		opts, err = c2.BeginPasskeyLogin(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if uv := userVerification(t, opts); uv != "required" {
			t.Fatalf("admin login userVerification = %q", uv)
		}
		// The pre-MFA token opens nothing else, passkey routes included.
		preMFA, _ := client.New(s.URL, client.WithCAFile(s.CAFile), client.WithToken(token))
		_, err = preMFA.BeginPasskeyStepUp(ctx)
		expectCode(t, err, "unauthenticated")
		if _, err := c2.FinishPasskeyLogin(ctx, token, key.get(opts)); err != nil {
			t.Fatal(err)
		}
		if _, err := c2.Conversations(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ = c2.Passkeys(ctx)
		if len(list) != 1 || list[0].LastUsedAt == nil {
			t.Fatalf("after use: %+v", list)
		}
		// The only second factor of an administrator cannot be removed (A2).
		err = c2.DeletePasskey(ctx, list[0].PasskeyID)
		expectCode(t, err, "conflict")
	})
}

// TestPasskeyUserLifecycle: an ordinary user adds a first passkey freely, a
// second one only after stepping up (A6) — here with the first passkey —,
// lists them, removes one (step-up; the other sessions end, A5) and cannot
// touch another user's (Z6). A TOTP administrator adding a passkey steps up
// with TOTP and is then offered both factors at login.
func TestPasskeyUserLifecycle(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		admin := s.SetupAdmin(ctx)
		alice := s.NewUser(ctx, admin, "alice")
		bob := s.NewUser(ctx, admin, "bob")

		phone := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true})
		opts, err := alice.BeginPasskeyRegistration(ctx)
		if err != nil {
			t.Fatalf("first passkey needs no step-up: %v", err)
		}
		if uv := userVerification(t, opts); uv != "preferred" {
			t.Fatalf("user registration userVerification = %q, want preferred", uv)
		}
		first, err := alice.FinishPasskeyRegistration(ctx, "", phone.create(opts))
		if err != nil {
			t.Fatal(err)
		}
		if first.Passkey.Name != "Passkey" || !first.Passkey.BackupEligible || !first.Passkey.BackupState {
			t.Fatalf("first passkey = %+v", first.Passkey)
		}

		// Five minutes on, adding another is an MFA change: step up first.
		s.Clock.Advance(6 * time.Minute)
		_, err = alice.BeginPasskeyRegistration(ctx)
		expectCode(t, err, "step_up_required")
		opts, err = alice.BeginPasskeyStepUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		old := alice.Token()
		if _, err := alice.FinishPasskeyStepUp(ctx, phone.get(opts)); err != nil {
			t.Fatal(err)
		}
		if alice.Token() == old {
			t.Fatal("step-up kept the session ID")
		}
		audited(ctx, t, s, "auth.step_up", "")
		key := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{UserNotVerified: true}) // UV is only preferred for users
		second := registerPasskey(ctx, t, alice.Client, key, "Desk key")
		list, err := alice.Passkeys(ctx)
		if err != nil || len(list) != 2 || list[1].PasskeyID != second.Passkey.PasskeyID || list[1].UserVerified {
			t.Fatalf("passkeys = %+v, %v", list, err)
		}

		// Login offers the passkey; either authenticator works.
		other := passkeyLogin(ctx, t, s, "alice", key)
		if _, err := other.Conversations(ctx); err != nil {
			t.Fatal(err)
		}

		// Another user's passkey is not_found, even with step-up.
		bobKey := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{})
		bobPasskey := registerPasskey(ctx, t, bob.Client, bobKey, "")
		err = alice.DeletePasskey(ctx, bobPasskey.Passkey.PasskeyID)
		expectCode(t, err, "not_found")

		// Removing needs step-up and ends alice's other sessions.
		s.Clock.Advance(6 * time.Minute)
		err = alice.DeletePasskey(ctx, first.Passkey.PasskeyID)
		expectCode(t, err, "step_up_required")
		opts, _ = alice.BeginPasskeyStepUp(ctx)
		if _, err := alice.FinishPasskeyStepUp(ctx, key.get(opts)); err != nil {
			t.Fatal(err)
		}
		if err := alice.DeletePasskey(ctx, first.Passkey.PasskeyID); err != nil {
			t.Fatal(err)
		}
		_, err = other.Conversations(ctx)
		expectCode(t, err, "unauthenticated")
		if list, _ := alice.Passkeys(ctx); len(list) != 1 || list[0].PasskeyID != second.Passkey.PasskeyID {
			t.Fatalf("after delete: %+v", list)
		}
		audited(ctx, t, s, "auth.webauthn_remove", "")
		// The removed passkey no longer signs in.
		c, token := pendingLogin(ctx, t, s, "alice")
		opts, err = c.BeginPasskeyLogin(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.FinishPasskeyLogin(ctx, token, phone.getAt(opts, 100))
		expectCode(t, err, "unauthenticated")
		// An ordinary user may remove the last one (no MFA required).
		if err := alice.DeletePasskey(ctx, second.Passkey.PasskeyID); err != nil {
			t.Fatal(err)
		}
		if res, err := s.Client().Login(ctx, "alice", parleytest.Password); err != nil || res.MFARequired {
			t.Fatalf("login without a second factor = %+v, %v", res, err)
		}

		// A TOTP administrator adds a passkey after stepping up with TOTP.
		s.Clock.Advance(6 * time.Minute)
		if _, err := admin.Me(ctx); err == nil {
			t.Fatal("admin session should be idle-expired after 18 minutes")
		}
		res, err := admin.Login(ctx, "admin", parleytest.Password)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.CompleteMFA(ctx, res.MFAToken, "totp", s.TOTPCode(admin.TOTPSecret)); err != nil {
			t.Fatal(err)
		}
		s.Clock.Advance(6 * time.Minute)
		_, err = admin.BeginPasskeyRegistration(ctx)
		expectCode(t, err, "step_up_required")
		if _, err := admin.StepUp(ctx, "totp", s.TOTPCode(admin.TOTPSecret), ""); err != nil {
			t.Fatal(err)
		}
		adminKey := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{})
		registerPasskey(ctx, t, admin.Client, adminKey, "")
		res, err = s.Client().Login(ctx, "admin", parleytest.Password)
		if err != nil || !slices.Contains(res.Methods, "totp") || !slices.Contains(res.Methods, "webauthn") {
			t.Fatalf("admin login methods = %+v, %v", res, err)
		}
	})
}

// TestPasskeyBadAssertions: each bad assertion of the identity issue —
// another user's credential, wrong origin, wrong RP ID, a replayed or
// expired challenge, a counter gone backwards (cloned authenticator),
// missing user verification for an administrator — gets the same 401,
// changes nothing and is audited with its real reason (A1, A9).
func TestPasskeyBadAssertions(t *testing.T) {
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		admin := s.SetupAdmin(ctx)
		alice := s.NewUser(ctx, admin, "alice")
		bob := s.NewUser(ctx, admin, "bob")
		aliceKey := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{})
		bobKey := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{})
		registerPasskey(ctx, t, alice.Client, aliceKey, "")
		registerPasskey(ctx, t, bob.Client, bobKey, "")

		// One authenticator credential belongs to one account only.
		opts, err := bob.BeginPasskeyRegistration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bob.FinishPasskeyRegistration(ctx, "", aliceKey.create(opts))
		expectCode(t, err, "invalid")
		audited(ctx, t, s, "auth.webauthn_register", "credential ID already registered")

		// failLogin begins a login of alice and finishes it with answer.
		failLogin := func(name string, answer func(opts json.RawMessage) json.RawMessage) {
			t.Helper()
			c, token := pendingLogin(ctx, t, s, "alice")
			opts, err := c.BeginPasskeyLogin(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.FinishPasskeyLogin(ctx, token, answer(opts))
			if !client.IsCode(err, "unauthenticated") {
				t.Fatalf("%s: got %v, want unauthenticated", name, err)
			}
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.Message != "invalid code" {
				t.Fatalf("%s: answer %v is not the uniform one", name, err)
			}
		}

		failLogin("another user's credential", bobKey.get)
		audited(ctx, t, s, "auth.mfa", "not owned by the user")

		evilOrigin := *aliceKey
		evilOrigin.rp.Origin = "https://evil.example"
		failLogin("wrong origin", evilOrigin.get)
		audited(ctx, t, s, "auth.mfa", "Error validating origin")

		wrongPort := *aliceKey
		u, _ := url.Parse(s.URL)
		wrongPort.rp.Origin = "https://localhost:1" + u.Port()
		failLogin("wrong origin port", wrongPort.get)

		evilRP := *aliceKey
		evilRP.rp.ID = "evil.example"
		failLogin("wrong RP ID", evilRP.get)
		audited(ctx, t, s, "auth.mfa", "RP Hash mismatch")

		// Replay: a challenge is answered once, whatever the outcome. The
		// first finish fails (wrong origin) and uses it up; the right
		// assertion for the same challenge then fails too.
		c, token := pendingLogin(ctx, t, s, "alice")
		opts, err = c.BeginPasskeyLogin(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.FinishPasskeyLogin(ctx, token, evilOrigin.get(opts))
		expectCode(t, err, "unauthenticated")
		_, err = c.FinishPasskeyLogin(ctx, token, aliceKey.get(opts))
		expectCode(t, err, "unauthenticated")
		audited(ctx, t, s, "auth.mfa", "no pending login challenge")

		// Replay of a successful step-up assertion.
		opts, err = alice.BeginPasskeyStepUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		answer := aliceKey.get(opts)
		if _, err := alice.FinishPasskeyStepUp(ctx, answer); err != nil {
			t.Fatal(err)
		}
		_, err = alice.FinishPasskeyStepUp(ctx, answer)
		expectCode(t, err, "unauthenticated")
		audited(ctx, t, s, "auth.step_up", "no pending step_up challenge")

		// Expired: five minutes is the limit, on the server's clock.
		opts, err = alice.BeginPasskeyStepUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Clock.Advance(6 * time.Minute)
		_, err = alice.FinishPasskeyStepUp(ctx, aliceKey.get(opts))
		expectCode(t, err, "unauthenticated")
		audited(ctx, t, s, "auth.step_up", "challenge expired")
		c, token = pendingLogin(ctx, t, s, "alice")
		opts, _ = c.BeginPasskeyLogin(ctx, token)
		s.Clock.Advance(6 * time.Minute)
		_, err = c.FinishPasskeyLogin(ctx, token, aliceKey.get(opts))
		expectCode(t, err, "unauthenticated")

		// A login's challenge cannot finish a step-up (purpose binding).
		alice2 := passkeyLogin(ctx, t, s, "alice", aliceKey)
		c, token = pendingLogin(ctx, t, s, "alice")
		opts, _ = c.BeginPasskeyLogin(ctx, token)
		_, err = alice2.FinishPasskeyStepUp(ctx, aliceKey.get(opts))
		expectCode(t, err, "unauthenticated")

		// Counter regression: the authenticator said 50, now says 7.
		c, token = pendingLogin(ctx, t, s, "alice")
		opts, _ = c.BeginPasskeyLogin(ctx, token)
		if _, err := c.FinishPasskeyLogin(ctx, token, aliceKey.getAt(opts, 50)); err != nil {
			t.Fatal(err)
		}
		failLogin("counter regression", func(opts json.RawMessage) json.RawMessage { return aliceKey.getAt(opts, 7) })
		audited(ctx, t, s, "auth.webauthn_clone_suspected", "possible cloned authenticator")
		failLogin("counter repeated", func(opts json.RawMessage) json.RawMessage { return aliceKey.getAt(opts, 50) })
		aliceKey.cred.Counter = 50
		passkeyLogin(ctx, t, s, "alice", aliceKey) // the genuine authenticator, counting on, still works

		// Malformed input is 400, not a verification.
		c, token = pendingLogin(ctx, t, s, "alice")
		_, err = c.FinishPasskeyLogin(ctx, token, json.RawMessage(`"not an object"`))
		expectCode(t, err, "invalid")
		_, err = c.FinishPasskeyLogin(ctx, "garbage-token", aliceKey.get(json.RawMessage(`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","allowCredentials":[{"type":"public-key","id":"AA"}]}}`)))
		expectCode(t, err, "unauthenticated")
		_, err = c.BeginPasskeyLogin(ctx, "garbage-token")
		expectCode(t, err, "unauthenticated")
	})
}

// TestPasskeyUserVerificationForAdmins: an administrator's passkey must
// verify its user (PIN, biometrics) at registration and at every use (A2).
func TestPasskeyUserVerificationForAdmins(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	presenceOnly := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
	opts, err := admin.BeginPasskeyRegistration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.FinishPasskeyRegistration(ctx, "", presenceOnly.create(opts))
	expectCode(t, err, "invalid")
	audited(ctx, t, s, "auth.webauthn_register", "User verification required")
	if list, _ := admin.Passkeys(ctx); len(list) != 0 {
		t.Fatalf("a passkey without user verification was stored: %+v", list)
	}

	key := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{})
	registerPasskey(ctx, t, admin.Client, key, "")
	// The same credential, later used without verifying the user.
	key.auth.Options.UserNotVerified = true
	c, token := pendingLogin(ctx, t, s, "admin")
	opts, err = c.BeginPasskeyLogin(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FinishPasskeyLogin(ctx, token, key.get(opts))
	expectCode(t, err, "unauthenticated")
	audited(ctx, t, s, "auth.mfa", "User verification required")
	key.auth.Options.UserNotVerified = false
	passkeyLogin(ctx, t, s, "admin", key)
}

// TestPasskeyRoutesRejectBadBodies: strict decoding of what the server owns
// (I2): unknown fields, a credential that is not an object, an oversize body.
func TestPasskeyRoutesRejectBadBodies(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	alice := s.NewUser(ctx, admin, "alice")
	if _, err := alice.BeginPasskeyRegistration(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := alice.FinishPasskeyRegistration(ctx, "", json.RawMessage(`[1,2]`))
	expectCode(t, err, "invalid")
	_, err = alice.FinishPasskeyRegistration(ctx, strings.Repeat("n", 65), json.RawMessage(`{}`))
	expectCode(t, err, "invalid")
	_, err = alice.FinishPasskeyRegistration(ctx, "", json.RawMessage(`{"id":"`+strings.Repeat("A", 70<<10)+`"}`))
	expectCode(t, err, "too_large")
	// A garbage credential object is refused after the library parses it.
	_, err = alice.FinishPasskeyRegistration(ctx, "", json.RawMessage(`{"id":"x","type":"public-key"}`))
	expectCode(t, err, "invalid")
	_, err = alice.BeginPasskeyStepUp(ctx)
	expectCode(t, err, "invalid") // no passkey to step up with
	err = alice.DeletePasskey(ctx, "wa_nope")
	expectCode(t, err, "step_up_required") // the router asks before anything else
	if _, err := alice.StepUp(ctx, "password", "", parleytest.Password); err != nil {
		t.Fatal(err)
	}
	err = alice.DeletePasskey(ctx, "wa_nope")
	expectCode(t, err, "not_found")
}

// TestPasskeyRecordTamperDetected: a credential row moved to another
// account directly in the database (behind the server's back) does not
// sign that account in — its sealed public key is bound to the user — and
// the server audits the altered record (A7, D7).
func TestPasskeyRecordTamperDetected(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	alice := s.NewUser(ctx, admin, "alice")
	s.NewUser(ctx, admin, "mallory")
	key := newDevice(t, s, virtualwebauthn.AuthenticatorOptions{})
	registerPasskey(ctx, t, alice.Client, key, "")

	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.Dir, "parley.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE webauthn_credentials SET user_id = (SELECT id FROM users WHERE username = 'mallory')`); err != nil {
		t.Fatal(err)
	}
	c, token := pendingLogin(ctx, t, s, "mallory") // the row makes the server ask for a passkey…
	_, err = c.BeginPasskeyLogin(ctx, token)
	expectCode(t, err, "invalid") // …but it does not verify, so there is none to use
	audited(ctx, t, s, "auth.webauthn_integrity", "record altered outside the server")
}
