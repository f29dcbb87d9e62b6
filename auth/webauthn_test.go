package auth

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/parleyhq/parley"
)

// The ceremonies themselves are tested end to end with a software
// authenticator (e2e/webauthn_test.go); these are the pieces around them.

// TestWebAuthnOrigins: only https origins on the RP ID (or under it) are
// accepted, so a misconfiguration fails at start-up instead of at every
// ceremony — or, worse, accepting a host the operator did not mean (A1, T1).
func TestWebAuthnOrigins(t *testing.T) {
	cases := []struct {
		rpID    string
		origins []string
		want    []string // nil: refused
	}{
		{"localhost", []string{"https://localhost:8443"}, []string{"https://localhost:8443"}},
		{"example.com", []string{"https://Chat.Example.com/", "https://example.com"}, []string{"https://chat.example.com", "https://example.com"}},
		{"localhost", nil, nil},
		{"localhost", []string{"http://localhost:8443"}, nil},                // T1: TLS only
		{"example.com", []string{"https://example.com.evil.net"}, nil},       // not under the RP ID
		{"example.com", []string{"https://notexample.com"}, nil},             // suffix, not subdomain
		{"example.com", []string{"https://example.com/login"}, nil},          // an origin has no path
		{"example.com", []string{"https://user@example.com"}, nil},           // nor credentials
		{"10.0.0.5", []string{"https://10.0.0.5"}, nil},                      // WebAuthn RP IDs are names
		{"example.com", []string{"https://example.com?x=1"}, nil},            // nor a query
		{"example.com", []string{"https://example.com", "ftp://x.com"}, nil}, // every one is checked
	}
	for _, c := range cases {
		got, err := checkOrigins(c.rpID, c.origins)
		if (err == nil) != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("checkOrigins(%q, %q) = %q, %v; want %q", c.rpID, c.origins, got, err, c.want)
		}
	}
}

func TestNewWebAuthnConfig(t *testing.T) {
	cfg := DefaultConfig()
	if _, err := NewWebAuthn(&Service{cfg: cfg}); err == nil {
		t.Fatal("no origin: want an error")
	}
	cfg.WebAuthnOrigins = []string{"https://localhost:9443"}
	w, err := NewWebAuthn(&Service{cfg: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if w.RPID() != "localhost" || !slices.Equal(w.Origins(), []string{"https://localhost:9443"}) || w.rp.Config.RPDisplayName != "Parley" {
		t.Fatalf("rp = %s %v %s", w.RPID(), w.Origins(), w.rp.Config.RPDisplayName)
	}
	cfg.WebAuthnRPID = "Chat.Example.COM"
	cfg.WebAuthnOrigins = []string{"https://chat.example.com"}
	if w, err := NewWebAuthn(&Service{cfg: cfg}); err != nil || w.RPID() != "chat.example.com" {
		t.Fatalf("mixed-case RP ID: %v", err)
	}
}

// TestUserVerificationByRole: administrators must verify (A2); others are
// asked to.
func TestUserVerificationByRole(t *testing.T) {
	for _, c := range []struct {
		roles []parley.Role
		want  protocol.UserVerificationRequirement
	}{
		{[]parley.Role{parley.RoleUser}, protocol.VerificationPreferred},
		{nil, protocol.VerificationPreferred},
		{[]parley.Role{parley.RoleUser, parley.RoleAuditor}, protocol.VerificationRequired},
		{[]parley.Role{parley.RoleDepartmentAdmin}, protocol.VerificationRequired},
		{[]parley.Role{parley.RoleSystemAdmin}, protocol.VerificationRequired},
	} {
		if got := userVerification(c.roles); got != c.want {
			t.Errorf("userVerification(%v) = %s, want %s", c.roles, got, c.want)
		}
	}
}

// TestLibraryCredential: a stored credential converts to what the library
// verifies against, flags and counter included; flags decide whether a
// later assertion's backup-eligibility is consistent.
func TestLibraryCredential(t *testing.T) {
	c := &parley.WebAuthnCredential{CredentialID: []byte{1, 2}, AttestationFormat: "packed", AttestationType: "self",
		SignCount: 42, AAGUID: []byte{9}, Transports: []string{"usb", "nfc"},
		BackupEligible: true, BackupState: false, UserVerified: true}
	got := libraryCredential(c, []byte("cose"))
	if !bytes.Equal(got.ID, c.CredentialID) || string(got.PublicKey) != "cose" || got.Authenticator.SignCount != 42 ||
		!got.Flags.UserPresent || !got.Flags.UserVerified || !got.Flags.BackupEligible || got.Flags.BackupState ||
		got.AttestationFormat != "packed" || len(got.Transport) != 2 || got.Transport[1] != protocol.NFC {
		t.Fatalf("library credential = %+v", got)
	}
	c.UserVerified, c.BackupEligible, c.BackupState = false, false, false
	if f := libraryCredential(c, nil).Flags; f.UserVerified || f.BackupEligible || f.BackupState {
		t.Fatalf("flags = %+v", f)
	}
}

func TestCleanTransports(t *testing.T) {
	in := []protocol.AuthenticatorTransport{"usb", "usb", "internal", "carrier-pigeon", "<script>", "hybrid"}
	if got := cleanTransports(in); !slices.Equal(got, []string{"usb", "internal", "hybrid"}) {
		t.Fatalf("cleanTransports = %q", got)
	}
	if got := cleanTransports(nil); got != nil {
		t.Fatalf("cleanTransports(nil) = %q", got)
	}
}

func TestCredentialName(t *testing.T) {
	for in, want := range map[string]string{"": "Passkey", "  ": "Passkey", " YubiKey 5C ": "YubiKey 5C", "指纹": "指纹"} {
		if got, err := credentialName(in); err != nil || got != want {
			t.Errorf("credentialName(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{strings.Repeat("x", 65), "two\nlines", "bell\a", "nul\x00"} {
		if _, err := credentialName(bad); parley.ErrorCode(err) != parley.CodeInvalid {
			t.Errorf("credentialName(%q): err = %v, want invalid", bad, err)
		}
	}
}

// TestPublicKeyAAD: a sealed key opens only for its own user and
// credential ID (D7).
func TestPublicKeyAAD(t *testing.T) {
	a := publicKeyAAD("u_a", []byte{1, 2})
	for _, other := range [][]byte{publicKeyAAD("u_b", []byte{1, 2}), publicKeyAAD("u_a", []byte{1, 3}), publicKeyAAD("u_a\x00", []byte{2})} {
		if bytes.Equal(a, other) {
			t.Fatalf("AAD collision: %q", other)
		}
	}
}

// TestLibraryReason: the audit reason is the library's, bounded and one
// printable line even when it quotes what the client claimed (I3).
func TestLibraryReason(t *testing.T) {
	err := protocol.ErrVerification.WithDetails("Error validating origin").
		WithInfo("Received: https://evil.example\n2026-01-01 forged log line" + strings.Repeat("x", 500))
	got := libraryReason(err)
	if !strings.HasPrefix(got, "Error validating origin (Received: https://evil.example?2026") || strings.ContainsAny(got, "\n\r") || len(got) > 200 {
		t.Fatalf("libraryReason = %q", got)
	}
	if got := libraryReason(fmt.Errorf("plain")); got != "verification failed" {
		t.Fatalf("libraryReason(plain) = %q", got)
	}
	wrapped := &protocol.ErrorUnknownCredential{Err: protocol.ErrBadRequest.WithDetails("not owned")}
	if got := libraryReason(wrapped); got != "not owned" {
		t.Fatalf("libraryReason(unknown credential) = %q", got)
	}
}
