package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters fixed by API-CORE.md: RFC 6238, SHA-1, 6 digits, 30 s.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

const (
	totpSkew          = 1 // accept one step either side for clock drift
	recoveryCodeCount = 10
)

func totpAAD(id parley.UserID) []byte { return []byte("parley/totp/v1\x00" + string(id)) }

// EnrollTOTP starts enrolment: a fresh secret, sealed at rest under the
// keyring (A7), not yet active. Replacing a confirmed factor is an MFA
// change and needs step-up; that comes with the identity issue, so for now
// an enrolled user is refused.
func (s *Service) EnrollTOTP(ctx context.Context, a *parley.Actor) (*parley.TOTPEnrollment, error) {
	u, err := s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if u.MFAEnrolled {
		return nil, parley.Errorf(parley.CodeConflict, "TOTP is already enrolled")
	}
	// Adding a factor to an account that has one (a passkey) is an MFA
	// change: it needs step-up (A6). A first factor needs none.
	if has, err := s.hasPasskey(ctx, u.ID); err != nil {
		return nil, err
	} else if has {
		if err := s.RequireStepUp(a); err != nil {
			return nil, err
		}
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.cfg.TOTPIssuer, AccountName: u.Username, Period: 30,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, parley.Internal("auth.EnrollTOTP", err)
	}
	sealed, err := crypt.SealSecret(ctx, s.keys, []byte(key.Secret()), totpAAD(u.ID))
	if err != nil {
		return nil, parley.Internal("auth.EnrollTOTP", err)
	}
	if err := s.store.SetTOTP(ctx, u.ID, sealed, false); err != nil {
		return nil, err
	}
	_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.totp_enroll_start",
		Target: string(u.ID), SourceIP: a.SourceIP, Result: parley.ResultSuccess})
	return &parley.TOTPEnrollment{Secret: key.Secret(), OtpauthURL: key.URL()}, nil
}

// ConfirmTOTP activates the pending secret with a current code, issues
// recovery codes (stored hashed, A7) and replaces the session: enrolment is
// a privilege change (A5), and the new session counts as MFA-verified.
func (s *Service) ConfirmTOTP(ctx context.Context, a *parley.Actor, code string, m parley.RequestMeta) (*parley.TOTPConfirmation, error) {
	u, err := s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	if u.MFAEnrolled {
		return nil, parley.Errorf(parley.CodeConflict, "TOTP is already enrolled")
	}
	if u.TOTPSecretSealed == nil {
		return nil, parley.Errorf(parley.CodeInvalid, "start enrolment first")
	}
	if err := s.checkTOTP(ctx, u, code); err != nil {
		_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.totp_enroll",
			SourceIP: a.SourceIP, Result: parley.ResultFailure, Reason: parley.ErrorMessage(err)})
		return nil, err
	}
	codes, hashes := newRecoveryCodes()
	if err := s.store.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, err
	}
	if err := s.store.SetTOTP(ctx, u.ID, u.TOTPSecretSealed, true); err != nil {
		return nil, err
	}
	// An MFA change ends every session of the user, this one included:
	// one that an attacker opened with the password alone must not
	// survive the owner's enrolment (A5).
	ended, err := s.store.DeleteUserSessions(ctx, u.ID, "")
	if err != nil {
		return nil, err
	}
	s.endSessions(ended...)
	issued, err := s.newSession(ctx, u.ID, parley.SessionActive, s.now(), m)
	if err != nil {
		return nil, err
	}
	_ = s.record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "auth.totp_enroll",
		Target: string(u.ID), SourceIP: a.SourceIP, Result: parley.ResultSuccess})
	return &parley.TOTPConfirmation{RecoveryCodes: codes, Issued: issued}, nil
}

// checkTOTP accepts a code of the current step ±1 at most once: the matched
// step must be newer than the last accepted one, recorded atomically, so a
// code seen by an attacker cannot be replayed (A1).
func (s *Service) checkTOTP(ctx context.Context, u *parley.User, code string) error {
	invalid := parley.Errorf(parley.CodeUnauthenticated, "invalid code")
	code = strings.TrimSpace(code)
	if len(code) != 6 || u.TOTPSecretSealed == nil {
		return invalid
	}
	secret, err := crypt.OpenSecret(ctx, s.keys, u.TOTPSecretSealed, totpAAD(u.ID))
	if err != nil {
		return parley.Internal("auth.checkTOTP", err)
	}
	now := s.now()
	step := now.Unix() / 30
	matched := int64(-1)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totp.GenerateCodeCustom(string(secret), time.Unix((step+d)*30, 0), totpOpts)
		if err != nil {
			return parley.Internal("auth.checkTOTP", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = step + d
		}
	}
	if matched < 0 {
		return invalid
	}
	fresh, err := s.store.AdvanceTOTPStep(ctx, u.ID, matched)
	if err != nil {
		return err
	}
	if !fresh {
		return parley.Errorf(parley.CodeUnauthenticated, "invalid code") // replay
	}
	return nil
}

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRecoveryCodes returns codes of 80 random bits each (xxxx-xxxx-xxxx-xxxx)
// and their hashes. At 80 bits a fast hash is safe against offline guessing.
func newRecoveryCodes() ([]string, [][]byte) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([][]byte, recoveryCodeCount)
	for i := range codes {
		var b [10]byte
		_, _ = rand.Read(b[:])
		raw := strings.ToLower(recoveryEncoding.EncodeToString(b[:]))
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
		hashes[i] = crypt.HashToken(raw)
	}
	return codes, hashes
}

func normaliseRecoveryCode(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
}

func (s *Service) useRecoveryCode(ctx context.Context, u *parley.User, code string) error {
	c := normaliseRecoveryCode(code)
	if len(c) != 16 {
		return parley.Errorf(parley.CodeUnauthenticated, "invalid code")
	}
	err := s.store.ConsumeRecoveryCode(ctx, u.ID, crypt.HashToken(c))
	if parley.IsNotFound(err) {
		return parley.Errorf(parley.CodeUnauthenticated, "invalid code")
	}
	return err
}
