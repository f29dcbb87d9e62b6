package supervision

import (
	"context"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
)

// Open opens supervised access to a department subtree: active at once, or
// pending an auditor's approval when the supervision policy says so.
func (s *Service) Open(ctx context.Context, a *parley.Actor, req parley.SupervisionRequest) (*parley.SupervisionGrant, error) {
	const action = "supervision.open"
	if err := authz.Check(a, authz.PermSupervise); err != nil {
		return nil, err
	}
	reason, err := validateReason(req.Reason)
	if err != nil {
		return nil, err
	}
	if err := validateTicket(req.TicketID); err != nil {
		return nil, err
	}
	d := req.Duration
	if d == 0 {
		d = DefaultDuration
	}
	if d < time.Minute || d > MaxDuration || d%time.Minute != 0 {
		return nil, parley.Errorf(parley.CodeInvalid, "duration_minutes must be 1 to %d", int(MaxDuration/time.Minute))
	}
	deps, err := s.store.ListDepartments(ctx)
	if err != nil {
		return nil, err
	}
	tree := authz.NewTree(deps)
	// A department outside the caller's scope and one that does not exist
	// get the same answer (Z6): the caller learns nothing about either.
	exists := slices.ContainsFunc(deps, func(d *parley.Department) bool { return d.ID == req.DepartmentID })
	if !exists || !authz.HoldsIn(a, authz.PermSupervise, req.DepartmentID, tree) {
		return nil, s.deny(ctx, a, action, truncate(string(req.DepartmentID)),
			parley.Errorf(parley.CodeNotFound, "department not found"))
	}
	pol, err := s.loadPolicy(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	g := &parley.SupervisionGrant{
		ID: parley.NewSupervisionID(), SupervisorID: a.UserID, DepartmentID: req.DepartmentID,
		Reason: reason, TicketID: req.TicketID, Status: parley.SupervisionActive,
		CreatedAt: now, ExpiresAt: now.Add(d),
	}
	if pol.RequireApproval {
		g.Status = parley.SupervisionPending
	}
	if err := s.record(ctx, a, action, string(g.ID), describe(g)+" status="+string(g.Status)+" minutes="+strconv.Itoa(int(d/time.Minute))); err != nil {
		return nil, err
	}
	if err := s.store.CreateSupervision(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// Grants lists the caller's own grants with their effective status.
func (s *Service) Grants(ctx context.Context, a *parley.Actor) ([]*parley.SupervisionGrant, error) {
	if err := authz.Check(a, authz.PermSupervise); err != nil {
		return nil, err
	}
	list, err := s.store.SupervisionsBySupervisor(ctx, a.UserID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, g := range list {
		g.Status = g.StatusAt(now)
	}
	return list, nil
}

// Pending lists the requests the caller may decide: still pending, over a
// department the caller holds the approval permission for, and not the
// caller's own.
func (s *Service) Pending(ctx context.Context, a *parley.Actor) ([]*parley.SupervisionGrant, error) {
	if err := authz.Check(a, authz.PermSupervisionApprove); err != nil {
		return nil, err
	}
	list, err := s.store.SupervisionsByStatus(ctx, parley.SupervisionPending)
	if err != nil {
		return nil, err
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]*parley.SupervisionGrant, 0, len(list))
	for _, g := range list {
		if g.StatusAt(now) == parley.SupervisionPending && g.SupervisorID != a.UserID &&
			authz.HoldsIn(a, authz.PermSupervisionApprove, g.DepartmentID, tree) {
			out = append(out, g)
		}
	}
	return out, nil
}

// Approve activates a pending request. The requested duration starts now,
// not when the request was made. Nobody approves their own request.
func (s *Service) Approve(ctx context.Context, a *parley.Actor, id parley.SupervisionID) (*parley.SupervisionGrant, error) {
	const action = "supervision.approve"
	g, err := s.toDecide(ctx, a, action, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	upd := *g
	upd.Status, upd.ApprovedBy, upd.ApprovedAt, upd.ExpiresAt = parley.SupervisionActive, a.UserID, now, now.Add(g.Duration())
	if err := s.record(ctx, a, action, string(g.ID), describe(g)+" supervisor="+string(g.SupervisorID)); err != nil {
		return nil, err
	}
	if err := s.store.UpdateSupervision(ctx, &upd, parley.SupervisionPending); err != nil {
		return nil, err
	}
	return &upd, nil
}

// Deny refuses a pending request, optionally saying why.
func (s *Service) Deny(ctx context.Context, a *parley.Actor, id parley.SupervisionID, reason string) (*parley.SupervisionGrant, error) {
	const action = "supervision.deny"
	if len(reason) > 4*maxReason || utf8.RuneCountInString(reason) > maxReason || !printable(reason) {
		return nil, parley.Errorf(parley.CodeInvalid, "reason must be at most %d printable characters on one line", maxReason)
	}
	g, err := s.toDecide(ctx, a, action, id)
	if err != nil {
		return nil, err
	}
	upd := *g
	upd.Status, upd.EndedAt = parley.SupervisionDenied, s.now()
	why := describe(g) + " supervisor=" + string(g.SupervisorID)
	if reason != "" {
		why += " denial=" + strconv.Quote(reason)
	}
	if err := s.record(ctx, a, action, string(g.ID), why); err != nil {
		return nil, err
	}
	if err := s.store.UpdateSupervision(ctx, &upd, parley.SupervisionPending); err != nil {
		return nil, err
	}
	return &upd, nil
}

// toDecide returns a request the caller may approve or deny now. A request
// over a department outside the caller's approval scope is not_found, as
// if it did not exist.
func (s *Service) toDecide(ctx context.Context, a *parley.Actor, action string, id parley.SupervisionID) (*parley.SupervisionGrant, error) {
	if err := authz.Check(a, authz.PermSupervisionApprove); err != nil {
		return nil, err
	}
	notFound := parley.Errorf(parley.CodeNotFound, "supervision request not found")
	g, err := s.grant(ctx, id)
	if parley.IsNotFound(err) {
		return nil, s.deny(ctx, a, action, truncate(string(id)), notFound)
	}
	if err != nil {
		return nil, err
	}
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	if !authz.HoldsIn(a, authz.PermSupervisionApprove, g.DepartmentID, tree) {
		return nil, s.deny(ctx, a, action, string(id), notFound)
	}
	if g.SupervisorID == a.UserID {
		return nil, s.deny(ctx, a, action, string(id),
			parley.Errorf(parley.CodeForbidden, "nobody approves or denies their own supervision request"))
	}
	if st := g.StatusAt(s.now()); st != parley.SupervisionPending {
		return nil, s.deny(ctx, a, action, string(id), parley.Errorf(parley.CodeConflict, "supervision request is %s, not pending", st))
	}
	return g, nil
}

// End ends the caller's own grant early (or withdraws a pending request).
func (s *Service) End(ctx context.Context, a *parley.Actor, id parley.SupervisionID) error {
	const action = "supervision.end"
	if err := authz.Check(a, authz.PermSupervise); err != nil {
		return err
	}
	g, err := s.own(ctx, a, action, id)
	if err != nil {
		return err
	}
	st := g.StatusAt(s.now())
	if st != parley.SupervisionActive && st != parley.SupervisionPending {
		return parley.Errorf(parley.CodeConflict, "supervision is already %s", st)
	}
	upd := *g
	upd.Status, upd.EndedAt = parley.SupervisionEnded, s.now()
	if err := s.record(ctx, a, action, string(g.ID), describe(g)); err != nil {
		return err
	}
	return s.store.UpdateSupervision(ctx, &upd, g.Status)
}

// grant loads a grant by an ID from a request.
func (s *Service) grant(ctx context.Context, id parley.SupervisionID) (*parley.SupervisionGrant, error) {
	if id == "" || len(id) > 64 {
		return nil, parley.Errorf(parley.CodeNotFound, "supervision not found")
	}
	return s.store.SupervisionByID(ctx, id)
}

// own returns the caller's grant; anyone else's is not_found (Z6).
func (s *Service) own(ctx context.Context, a *parley.Actor, action string, id parley.SupervisionID) (*parley.SupervisionGrant, error) {
	notFound := parley.Errorf(parley.CodeNotFound, "supervision not found")
	g, err := s.grant(ctx, id)
	if parley.IsNotFound(err) {
		return nil, s.deny(ctx, a, action, truncate(string(id)), notFound)
	}
	if err != nil {
		return nil, err
	}
	if g.SupervisorID != a.UserID {
		return nil, s.deny(ctx, a, action, string(id), notFound)
	}
	return g, nil
}
