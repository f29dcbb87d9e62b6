package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

const settingIsolationPolicy = "isolation_policy"

// isolationTTL bounds how long a node may act on an old isolation policy or
// department tree after a change made on another node; a change on this
// node shows at once.
const isolationTTL = 5 * time.Second

// maxIsolationRules bounds the allow list (each rule costs a tree walk in
// every check).
const maxIsolationRules = 1000

// isolationScan is how many matches a directory search reads under the
// strict template before filtering: enough that a caller whose department
// is small still finds its colleagues among a large organisation, bounded
// so that a search stays one cheap query. Narrower queries find the rest.
const isolationScan = 25 * MaxResults

var (
	_ parley.IsolationPolicyService = (*Service)(nil)
	_ parley.Isolation              = (*Service)(nil)
)

// isoCache holds the published view; readers take it without a lock (the
// send path asks on every message), reloads are serialised by mu.
type isoCache struct {
	mu      sync.Mutex
	cur     atomic.Pointer[isoEntry]
	gen     atomic.Uint64 // bumped by invalidate
	version uint64
	key     string // the loaded policy and tree, to tell a real change
}

type isoEntry struct {
	view *parley.IsolationView
	at   time.Time
}

// invalidate makes the next read reload: after a change on this node. A
// reload that began before the change does not publish what it read.
func (c *isoCache) invalidate() {
	c.gen.Add(1)
	c.cur.Store(nil)
}

type isolationJSON struct {
	Template string          `json:"template"`
	Allow    []isolationRule `json:"allow"`
}

type isolationRule struct {
	A string `json:"a"`
	B string `json:"b"`
}

// IsolationView returns the isolation policy with the department tree,
// cached for isolationTTL.
func (s *Service) IsolationView(ctx context.Context) (*parley.IsolationView, error) {
	now := s.now()
	e := s.iso.cur.Load()
	if e != nil && now.Sub(e.at) < isolationTTL && !now.Before(e.at) {
		return e.view, nil
	}
	// Merely expired: while one caller reloads, the others go on with the
	// old view rather than queue behind the database (the send path).
	// Invalidated (nil): everyone waits, a change here shows at once.
	if e != nil {
		if !s.iso.mu.TryLock() {
			return e.view, nil
		}
	} else {
		s.iso.mu.Lock()
	}
	defer s.iso.mu.Unlock()
	if e := s.iso.cur.Load(); e != nil && now.Sub(e.at) < isolationTTL && !now.Before(e.at) {
		return e.view, nil // another caller reloaded meanwhile
	}
	gen := s.iso.gen.Load()
	p, err := s.loadIsolationPolicy(ctx)
	if err != nil {
		return nil, err
	}
	deps, err := s.store.ListDepartments(ctx)
	if err != nil {
		return nil, err
	}
	parents := make(map[parley.DepartmentID]parley.DepartmentID, len(deps))
	var key strings.Builder
	fmt.Fprintf(&key, "%s|%v|", p.Template, p.Allow)
	for _, d := range deps {
		parents[d.ID] = d.ParentID
		key.WriteString(string(d.ID) + ">" + string(d.ParentID) + ",")
	}
	// Keep the version while nothing changed, so that verdicts cached
	// against it (chat's per-conversation read-only flag) survive reloads.
	if k := key.String(); k != s.iso.key {
		s.iso.key = k
		s.iso.version++
	}
	v := &parley.IsolationView{Policy: *p, Parents: parents, Version: s.iso.version}
	if s.iso.gen.Load() == gen {
		s.iso.cur.Store(&isoEntry{view: v, at: now})
	}
	return v, nil
}

func (s *Service) loadIsolationPolicy(ctx context.Context) (*parley.IsolationPolicy, error) {
	raw, err := s.store.GetSetting(ctx, settingIsolationPolicy)
	if parley.IsNotFound(err) {
		return &parley.IsolationPolicy{Template: parley.IsolationOpen}, nil
	}
	if err != nil {
		return nil, err
	}
	var j isolationJSON
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		return nil, parley.Internal("directory.loadIsolationPolicy", err)
	}
	p := &parley.IsolationPolicy{Template: parley.IsolationTemplate(j.Template)}
	for _, r := range j.Allow {
		p.Allow = append(p.Allow, parley.IsolationRule{A: parley.DepartmentID(r.A), B: parley.DepartmentID(r.B)})
	}
	return p, nil
}

// IsolationPolicy returns the isolation policy in force (security admins,
// Z10).
func (s *Service) IsolationPolicy(ctx context.Context, a *parley.Actor) (*parley.IsolationPolicy, error) {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return nil, err
	}
	p, err := s.loadIsolationPolicy(ctx)
	if err != nil {
		return nil, err
	}
	if p.Allow == nil {
		p.Allow = []parley.IsolationRule{}
	}
	return p, nil
}

// SetIsolationPolicy validates and replaces the isolation policy (Z7). It
// is audited with the old and new template before it takes effect, and
// refused if the audit trail cannot be written (L5). Rules must name
// departments that exist now; one that is merged away later simply stops
// matching. A rule and its mirror image are the same rule.
func (s *Service) SetIsolationPolicy(ctx context.Context, a *parley.Actor, p *parley.IsolationPolicy) error {
	if err := authz.Check(a, authz.PermSecurityPolicy); err != nil {
		return err
	}
	data, err := s.validIsolationPolicy(ctx, p)
	if err != nil {
		if parley.ErrorCode(err) == parley.CodeInvalid {
			_ = s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "policy.isolation",
				SourceIP: a.SourceIP, Result: parley.ResultFailure, Reason: parley.ErrorMessage(err)})
		}
		return err
	}
	old, err := s.loadIsolationPolicy(ctx)
	if err != nil {
		return err
	}
	reason := fmt.Sprintf("template %s→%s, %d allow rules: %s", old.Template, p.Template, len(p.Allow), data)
	if err := s.audit.Record(ctx, parley.AuditRecord{ActorID: a.UserID, ActorName: a.Username, Action: "policy.isolation",
		SourceIP: a.SourceIP, Result: parley.ResultSuccess, Reason: reason}); err != nil {
		return parley.Errorf(parley.CodeUnavailable, "audit trail unavailable")
	}
	if err := s.store.PutSetting(ctx, settingIsolationPolicy, string(data)); err != nil {
		return err
	}
	s.iso.invalidate()
	return nil
}

// validIsolationPolicy checks p and returns its stored form.
func (s *Service) validIsolationPolicy(ctx context.Context, p *parley.IsolationPolicy) ([]byte, error) {
	if p.Template != parley.IsolationOpen && p.Template != parley.IsolationStrict {
		return nil, parley.Errorf(parley.CodeInvalid, `template must be "open" or "strict"`)
	}
	if len(p.Allow) > maxIsolationRules {
		return nil, parley.Errorf(parley.CodeInvalid, "at most %d allow rules", maxIsolationRules)
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	j := isolationJSON{Template: string(p.Template), Allow: []isolationRule{}}
	seen := make(map[[2]parley.DepartmentID]bool, len(p.Allow))
	for _, r := range p.Allow {
		for _, d := range []parley.DepartmentID{r.A, r.B} {
			if _, ok := tree[d]; !ok {
				// invalid, not not_found: the body is wrong, and department
				// IDs are no secret to a security admin.
				return nil, parley.Errorf(parley.CodeInvalid, "allow rule names unknown department %q", truncate(string(d), 64))
			}
		}
		pair := [2]parley.DepartmentID{r.A, r.B}
		slices.Sort(pair[:])
		if seen[pair] {
			return nil, parley.Errorf(parley.CodeInvalid, "allow rule %s–%s listed twice", r.A, r.B)
		}
		seen[pair] = true
		j.Allow = append(j.Allow, isolationRule{A: string(r.A), B: string(r.B)})
	}
	data, err := json.Marshal(j)
	if err != nil {
		return nil, parley.Internal("directory.SetIsolationPolicy", err)
	}
	return data, nil
}

// SeesWholeDirectory reports whether a holds an administrative permission
// that needs every user in view (creating accounts, the tree, security
// policy, the audit trail). It widens the directory search only: talking
// across the isolation boundary stays refused to them too.
func (s *Service) SeesWholeDirectory(a *parley.Actor) bool {
	for _, p := range []authz.Permission{authz.PermUsersCreate, authz.PermDepartmentsManage, authz.PermSecurityPolicy, authz.PermAuditRead} {
		if authz.Check(a, p) == nil {
			return true
		}
	}
	return false
}

// visibleUsers filters a directory search to the users a may see (Z7).
// list runs the search for at most n matches.
func (s *Service) visibleUsers(ctx context.Context, a *parley.Actor, limit int, list func(n int) ([]*parley.User, error)) ([]*parley.User, error) {
	v, err := s.IsolationView(ctx)
	if err != nil {
		return nil, err
	}
	if v.Open() || s.SeesWholeDirectory(a) {
		return list(limit)
	}
	all, err := list(isolationScan)
	if err != nil {
		return nil, err
	}
	out := make([]*parley.User, 0, min(limit, len(all)))
	for _, u := range all {
		if len(out) == limit {
			break
		}
		if u.ID == a.UserID || v.MayTalk(a.DepartmentID, u.DepartmentID) {
			out = append(out, u)
		}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
