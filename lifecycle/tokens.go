package lifecycle

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
)

// CreateServiceToken issues an API token for a service account (Z11): 256
// random bits, shown once, stored only as its hash (A7), expiring after
// lifetime (at most parley.MaxServiceTokenLifetime; zero means that
// maximum). A person's account gets none: people sign in.
func (s *Service) CreateServiceToken(ctx context.Context, a *parley.Actor, id parley.UserID, name string,
	lifetime time.Duration) (*parley.ServiceToken, string, error) {
	const action = "user.token_create"
	u, err := s.target(ctx, a, action, id)
	if err != nil {
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxTokenNameLen || !parley.CleanText(name) {
		return nil, "", parley.Errorf(parley.CodeInvalid, "name must be 1 to %d printable characters", maxTokenNameLen)
	}
	if lifetime == 0 {
		lifetime = parley.MaxServiceTokenLifetime
	}
	if lifetime < time.Hour || lifetime > parley.MaxServiceTokenLifetime {
		return nil, "", parley.Errorf(parley.CodeInvalid, "a token lives 1 to %d days", int(parley.MaxServiceTokenLifetime/(24*time.Hour)))
	}
	if !u.IsService() {
		return nil, "", s.deny(ctx, a, action, string(id), parley.Errorf(parley.CodeConflict, "API tokens are for service accounts only"))
	}
	if u.Status != parley.UserActive {
		return nil, "", s.deny(ctx, a, action, string(id), parley.Errorf(parley.CodeConflict, "the account is %s", u.Status))
	}
	now := s.now()
	secret, hash := crypt.NewToken()
	handle, _ := crypt.NewToken() // a separate random handle; not the secret
	st := &parley.ServiceToken{ID: "st_" + handle[:22], UserID: id, Name: name, TokenHash: hash,
		CreatedBy: a.UserID, CreatedAt: now, ExpiresAt: now.Add(lifetime)}
	if err := s.record(ctx, a, action, string(id), parley.ResultSuccess,
		"token="+st.ID+" name="+name+" expires="+dateText(st.ExpiresAt)); err != nil {
		return nil, "", err
	}
	if err := s.store.CreateServiceToken(ctx, st, MaxTokensPerAccount); err != nil {
		return nil, "", err
	}
	return st, secret, nil
}

// ServiceTokens lists a service account's tokens (never their secrets).
func (s *Service) ServiceTokens(ctx context.Context, a *parley.Actor, id parley.UserID) ([]*parley.ServiceToken, error) {
	if _, err := s.target(ctx, a, "user.token_list", id); err != nil {
		return nil, err
	}
	return s.store.ListServiceTokens(ctx, id)
}

// RevokeServiceToken deletes one of the account's tokens and closes the
// WebSockets opened with it at once. Another account's token ID is
// not_found.
func (s *Service) RevokeServiceToken(ctx context.Context, a *parley.Actor, id parley.UserID, tokenID string) error {
	const action = "user.token_revoke"
	if _, err := s.target(ctx, a, action, id); err != nil {
		return err
	}
	list, err := s.store.ListServiceTokens(ctx, id)
	if err != nil {
		return err
	}
	found := false
	for _, st := range list {
		found = found || st.ID == tokenID
	}
	if !found {
		return parley.Errorf(parley.CodeNotFound, "token not found")
	}
	if err := s.record(ctx, a, action, string(id), parley.ResultSuccess, "token="+tokenID); err != nil {
		return err
	}
	if err := s.store.DeleteServiceToken(ctx, id, tokenID); err != nil {
		return err
	}
	s.endSessions([]string{tokenID})
	return nil
}
