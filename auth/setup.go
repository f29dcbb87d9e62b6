package auth

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
)

// Setting keys.
const (
	settingSetupToken   = "setup_token" // hex(SHA-256(token)) "|" unix expiry
	SettingSetupAdminID = "setup_admin_id"
)

// EnsureSetupToken makes sure an uninitialised deployment has a valid setup
// token (A4: no default credentials; the first administrator proves they
// can read the server's data directory). It returns a new token if it made
// one — the caller writes it to DIR/setup-token and prints it once — and ""
// if the deployment is set up or a valid token already exists.
func (s *Service) EnsureSetupToken(ctx context.Context) (string, error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return "", err
	}
	if n > 0 {
		return "", nil
	}
	if v, err := s.store.GetSetting(ctx, settingSetupToken); err == nil {
		if _, exp, ok := parseSetupSetting(v); ok && s.now().Before(exp) {
			return "", nil
		}
	} else if !parley.IsNotFound(err) {
		return "", err
	}
	token, hash := crypt.NewToken()
	exp := s.now().Add(s.cfg.SetupTokenTTL)
	v := hex.EncodeToString(hash) + "|" + strconv.FormatInt(exp.Unix(), 10)
	if err := s.store.PutSetting(ctx, settingSetupToken, v); err != nil {
		return "", err
	}
	return token, nil
}

func parseSetupSetting(v string) ([]byte, time.Time, bool) {
	h, e, ok := strings.Cut(v, "|")
	if !ok {
		return nil, time.Time{}, false
	}
	hash, err := hex.DecodeString(h)
	unix, err2 := strconv.ParseInt(e, 10, 64)
	if err != nil || err2 != nil {
		return nil, time.Time{}, false
	}
	return hash, time.Unix(unix, 0), true
}

// Setup creates the first administrator (system_admin) with the one-time
// token; the token is consumed atomically, so it works once (A4). The new
// administrator must enrol MFA before anything else (A2).
func (s *Service) Setup(ctx context.Context, req parley.SetupRequest, m parley.RequestMeta) (parley.UserID, error) {
	bad := func(reason string) (parley.UserID, error) {
		_ = s.record(ctx, parley.AuditRecord{ActorName: truncate(req.Username, 64), Action: "setup",
			SourceIP: m.SourceIP, Result: parley.ResultFailure, Reason: reason})
		return "", parley.Errorf(parley.CodeUnauthenticated, "invalid or used setup token")
	}
	if err := s.throttle.allow(m.SourceIP, "setup:"); err != nil {
		return "", err
	}
	v, err := s.store.GetSetting(ctx, settingSetupToken)
	if parley.IsNotFound(err) {
		s.throttle.failed(m.SourceIP, "setup:")
		return bad("no setup token outstanding")
	} else if err != nil {
		return "", err
	}
	hash, exp, ok := parseSetupSetting(v)
	if !ok || req.Token == "" || len(req.Token) > 128 || !crypt.ConstantTimeEqual(hash, crypt.HashToken(req.Token)) {
		s.throttle.failed(m.SourceIP, "setup:")
		return bad("wrong setup token")
	}
	if !s.now().Before(exp) {
		return bad("setup token expired; restart the server for a new one")
	}
	u, err := s.newUser(ctx, req.Username, req.DisplayName, req.Password, "",
		[]parley.Role{parley.RoleSystemAdmin, parley.RoleUser})
	if err != nil {
		return "", err
	}
	// Consume the token only now that the request is known to be good;
	// TakeSetting is atomic, so a racing second setup loses here.
	if _, err := s.store.TakeSetting(ctx, settingSetupToken); err != nil {
		if parley.IsNotFound(err) {
			return bad("setup token already used")
		}
		return "", err
	}
	if err := s.ensureRootDepartment(ctx, u); err != nil {
		return "", err
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return "", err
	}
	if err := s.store.PutSetting(ctx, SettingSetupAdminID, string(u.ID)); err != nil {
		return "", err
	}
	_ = s.record(ctx, parley.AuditRecord{ActorID: u.ID, ActorName: u.Username, Action: "setup",
		Target: string(u.ID), SourceIP: m.SourceIP, Result: parley.ResultSuccess})
	if s.cfg.AfterSetup != nil {
		s.cfg.AfterSetup()
	}
	return u.ID, nil
}

// ensureRootDepartment creates the organisation's root department on first
// setup and places u in it.
func (s *Service) ensureRootDepartment(ctx context.Context, u *parley.User) error {
	deps, err := s.store.ListDepartments(ctx)
	if err != nil {
		return err
	}
	for _, d := range deps {
		if d.ParentID == "" {
			u.DepartmentID = d.ID
			return nil
		}
	}
	root := &parley.Department{ID: parley.NewDepartmentID(), Name: "Organisation", CreatedAt: s.now()}
	if err := s.store.CreateDepartment(ctx, root); err != nil {
		return err
	}
	u.DepartmentID = root.ID
	return nil
}
