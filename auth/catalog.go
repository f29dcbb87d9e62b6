package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// catalogTTL bounds how long a custom-role change made on another node
// takes to reach this one; on this node InvalidateCatalog makes it
// immediate.
const catalogTTL = 5 * time.Second

// catalogCache keeps the custom roles, needed on every authenticated
// request to resolve a session's permissions, off the database.
type catalogCache struct {
	mu sync.Mutex
	at time.Time
	c  *authz.Catalog
}

// Catalog returns the roles the deployment knows, built-in and custom.
func (s *Service) Catalog(ctx context.Context) (*authz.Catalog, error) {
	c := &s.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	if c.c != nil && now.Sub(c.at) <= catalogTTL && !now.Before(c.at) {
		return c.c, nil
	}
	roles, err := s.store.CustomRoles(ctx)
	if err != nil {
		return nil, err
	}
	c.c, c.at = authz.NewCatalog(roles), now
	return c.c, nil
}

// InvalidateCatalog drops the cached custom roles after a change.
func (s *Service) InvalidateCatalog() {
	s.catalog.mu.Lock()
	s.catalog.c = nil
	s.catalog.mu.Unlock()
}

// EndUserSessions ends every session of the user at once, REST and
// WebSocket: after a change of privileges (A5: the next session is a new
// one, with the new rights) or at offboarding (Z8).
func (s *Service) EndUserSessions(ctx context.Context, user parley.UserID) error {
	ids, err := s.store.DeleteUserSessions(ctx, user, "")
	if err != nil {
		return err
	}
	s.endSessions(ids...)
	return nil
}

// bootstrap remembers, per node, whether the bootstrap period is over: once
// a security_admin exists it never reopens (API-CORE.md).
type bootstrap struct {
	over    atomic.Bool // read without the lock on every request
	mu      sync.Mutex
	setupID parley.UserID
}

// bootstrapPerms gives the setup administrator the right to grant roles
// until the first security_admin exists (API-CORE.md, Z10); nobody else
// and never after. It costs a query only on the setup administrator's own
// requests during bootstrap.
func (s *Service) bootstrapPerms(ctx context.Context, u *parley.User) ([]parley.ScopedPerms, error) {
	b := &s.boot
	if b.over.Load() || !u.HasRole(parley.RoleSystemAdmin) {
		return nil, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.setupID == "" {
		id, err := s.store.GetSetting(ctx, SettingSetupAdminID)
		if parley.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		b.setupID = parley.UserID(id)
	}
	if u.ID != b.setupID {
		return nil, nil
	}
	exists, err := s.store.AnyUserWithRole(ctx, parley.RoleSecurityAdmin)
	if err != nil {
		return nil, err
	}
	if exists {
		b.over.Store(true)
		return nil, nil
	}
	return []parley.ScopedPerms{{Bits: authz.Bits(authz.PermRolesGrant, authz.PermRolesRead)}}, nil
}
