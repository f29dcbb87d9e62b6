package chat

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// Department isolation (Z7) on the message path. Under the open template
// the check is one atomic load of the cached policy view and costs nothing
// measurable. Under strict, whether a conversation is read-only is cached
// per conversation for verdictTTL and keyed on the view's version, so a
// policy or tree change on this node takes effect at once; a user moved
// to another department, or a change on another node, within verdictTTL
// (plus the directory's own few seconds). Nothing is stored: relaxing the
// policy makes conversations writable again.

// verdictTTL bounds how long a read-only verdict or a member's department
// is reused.
const verdictTTL = 10 * time.Second

// verdictCacheMax bounds each map of the cache; on overflow it starts over.
const verdictCacheMax = 50_000

// errReadOnly answers a send to a conversation that isolation cut.
func errReadOnly() error {
	return parley.Errorf(parley.CodeForbidden,
		"this conversation is read-only: department isolation no longer lets its members message each other")
}

type verdict struct {
	readOnly bool
	version  uint64
	at       time.Time
}

type userDept struct {
	dept parley.DepartmentID
	at   time.Time
}

// isoCache keeps read-only verdicts per conversation and members'
// departments (membership and departments change rarely).
type isoCache struct {
	mu       sync.RWMutex
	verdicts map[parley.ConversationID]verdict
	depts    map[parley.UserID]userDept
}

func fresh(at, now time.Time) bool { return now.Sub(at) < verdictTTL && !now.Before(at) }

// isolationView returns the policy view, or nil when no isolation is wired
// (tests, benchmarks) or the template is open: nothing to check.
func (s *Service) isolationView(ctx context.Context) (*parley.IsolationView, error) {
	if s.cfg.Isolation == nil {
		return nil, nil
	}
	v, err := s.cfg.Isolation.IsolationView(ctx)
	if err != nil {
		return nil, err
	}
	if v.Open() {
		return nil, nil
	}
	return v, nil
}

// checkWritable refuses sending (and typing) to a conversation whose
// members may no longer all talk to each other.
func (s *Service) checkWritable(ctx context.Context, c *parley.Conversation) error {
	v, err := s.isolationView(ctx)
	if err != nil || v == nil {
		return err
	}
	ro, err := s.readOnly(ctx, v, c)
	if err != nil {
		return err
	}
	if ro {
		return errReadOnly()
	}
	return nil
}

// readOnly reports whether isolation cuts c under view v, from the cache
// when it can.
func (s *Service) readOnly(ctx context.Context, v *parley.IsolationView, c *parley.Conversation) (bool, error) {
	now := s.now()
	s.iso.mu.RLock()
	e, ok := s.iso.verdicts[c.ID]
	s.iso.mu.RUnlock()
	if ok && e.version == v.Version && fresh(e.at, now) {
		return e.readOnly, nil
	}
	deps, err := s.departments(ctx, c.MemberIDs, now)
	if err != nil {
		return false, err
	}
	ro := !v.AllMayTalk(deps)
	s.iso.mu.Lock()
	if s.iso.verdicts == nil || len(s.iso.verdicts) >= verdictCacheMax {
		s.iso.verdicts = make(map[parley.ConversationID]verdict)
	}
	s.iso.verdicts[c.ID] = verdict{readOnly: ro, version: v.Version, at: now}
	s.iso.mu.Unlock()
	return ro, nil
}

// departments returns the members' departments. A member whose account is
// gone constrains nobody and is left out.
func (s *Service) departments(ctx context.Context, members []parley.UserID, now time.Time) ([]parley.DepartmentID, error) {
	out := make([]parley.DepartmentID, 0, len(members))
	var missing []parley.UserID
	s.iso.mu.RLock()
	for _, id := range members {
		if d, ok := s.iso.depts[id]; ok && fresh(d.at, now) {
			out = append(out, d.dept)
		} else {
			missing = append(missing, id)
		}
	}
	s.iso.mu.RUnlock()
	for _, id := range missing {
		u, err := s.store.UserByID(ctx, id)
		if parley.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u.DepartmentID)
		s.iso.mu.Lock()
		if s.iso.depts == nil || len(s.iso.depts) >= verdictCacheMax {
			s.iso.depts = make(map[parley.UserID]userDept)
		}
		s.iso.depts[id] = userDept{dept: u.DepartmentID, at: now}
		s.iso.mu.Unlock()
	}
	return out, nil
}

// markReadOnly sets ReadOnly on each of the caller's conversations that
// isolation cut (the conversation list, additive wire field).
func (s *Service) markReadOnly(ctx context.Context, list []*parley.Conversation) error {
	v, err := s.isolationView(ctx)
	if err != nil || v == nil {
		return err
	}
	for _, c := range list {
		if c.ReadOnly, err = s.readOnly(ctx, v, c); err != nil {
			return err
		}
	}
	return nil
}

// checkNewMembers applies isolation to a new conversation: a member the
// caller may not talk to is not_found, the same answer as for a user that
// does not exist, so the check reveals nothing (Z6); an administrator who
// sees the whole directory is told "forbidden" instead, since the user's
// existence is no secret to it. In a group every pair must be allowed.
func (s *Service) checkNewMembers(ctx context.Context, a *parley.Actor, members []*parley.User) error {
	v, err := s.isolationView(ctx)
	if err != nil || v == nil {
		return err
	}
	deps := make([]parley.DepartmentID, 0, len(members)+1)
	deps = append(deps, a.DepartmentID)
	for _, u := range members {
		if !v.MayTalk(a.DepartmentID, u.DepartmentID) {
			if s.cfg.Isolation.SeesWholeDirectory(a) {
				return parley.Errorf(parley.CodeForbidden, "department isolation does not let you message user %s", u.ID)
			}
			return parley.Errorf(parley.CodeNotFound, "user %s not found", u.ID)
		}
		deps = append(deps, u.DepartmentID)
	}
	if !v.AllMayTalk(deps) {
		return parley.Errorf(parley.CodeForbidden, "department isolation does not let every member of this group message every other")
	}
	return nil
}
