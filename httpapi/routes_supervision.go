package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// supervisionRoutes serve supervised access (Z3, D3). Every operation of
// the supervisor names PermSupervise, which the sensitive table makes
// demand a fresh step-up (A6); approval names PermSupervisionApprove (the
// auditor's). Nobody else — the system admin included (Z4) — holds either.
// The policy is security policy (Z10).
func (a *API) supervisionRoutes() []*route {
	if a.svc.Supervision == nil {
		return nil
	}
	const base = "/api/v1/supervision"
	conv := base + "/{id}/conversations/{cid}"
	return []*route{
		{Method: "POST", Path: base, Perm: authz.PermSupervise, Summary: "Open time-boxed supervised access to a department subtree, stating a business reason (audited)",
			Request: &wire.SupervisionRequest{}, Response: &wire.SupervisionOpened{}, Status: 201, Handle: a.openSupervision},
		{Method: "GET", Path: base, Perm: authz.PermSupervise, Summary: "The caller's supervision grants",
			Response: &wire.SupervisionList{}, Status: 200, Handle: a.supervisions},
		{Method: "GET", Path: base + "/pending", Perm: authz.PermSupervisionApprove, Summary: "Supervision requests waiting for the caller's approval",
			Response: &wire.SupervisionList{}, Status: 200, Handle: a.pendingSupervisions},
		{Method: "POST", Path: base + "/{id}/approve", Perm: authz.PermSupervisionApprove, Summary: "Approve another user's supervision request (audited)",
			Request: &wire.Empty{}, Response: &wire.Supervision{}, Status: 200, Handle: a.approveSupervision},
		{Method: "POST", Path: base + "/{id}/deny", Perm: authz.PermSupervisionApprove, Summary: "Deny another user's supervision request (audited)",
			Request: &wire.SupervisionDenyRequest{}, Response: &wire.Supervision{}, Status: 200, Handle: a.denySupervision},
		{Method: "DELETE", Path: base + "/{id}", Perm: authz.PermSupervise, Summary: "End the caller's supervision early (audited)",
			Status: 204, Handle: a.endSupervision},
		{Method: "GET", Path: base + "/{id}/conversations", Perm: authz.PermSupervise, Summary: "Conversations with a member in the supervised department subtree (audited)",
			Response: &wire.SupervisedConversationList{}, Status: 200, Handle: a.supervisedConversations,
			Query: []queryParam{{"after", "string", "conversations with an ID greater than this"}, {"limit", "integer", "1 to 200, default 100"}}},
		{Method: "GET", Path: conv + "/messages", Perm: authz.PermSupervise, Summary: "History read under supervision, ordered by seq (each read audited with the reason)",
			Response: &wire.SupervisedMessageList{}, Status: 200, Handle: a.supervisedHistory,
			Query: []queryParam{{"after_seq", "integer", "messages with seq greater than this"}, {"limit", "integer", "1 to 200, default 50"}}},
		{Method: "POST", Path: conv + "/messages/{seq}/recall", Perm: authz.PermSupervise, Summary: "Recall a message: its body is destroyed for everyone (audited)",
			Request: &wire.Empty{}, Status: 204, Handle: a.supervisedRecall},
		{Method: "POST", Path: conv + "/mute", Perm: authz.PermSupervise, Summary: "Stop a member of the supervised department from sending in the conversation for a while (audited)",
			Request: &wire.MuteRequest{}, Response: &wire.MuteResponse{}, Status: 200, Handle: a.supervisedMute},
		{Method: "GET", Path: "/api/v1/policy/supervision", Perm: authz.PermSecurityPolicy, Summary: "The supervision policy",
			Response: &wire.SupervisionPolicy{}, Status: 200, Handle: a.getSupervisionPolicy},
		{Method: "PUT", Path: "/api/v1/policy/supervision", Perm: authz.PermSecurityPolicy, Summary: "Replace the supervision policy (audited)",
			Request: &wire.SupervisionPolicy{}, Response: &wire.SupervisionPolicy{}, Status: 200, Handle: a.putSupervisionPolicy},
	}
}

func wireSupervision(g *parley.SupervisionGrant) wire.Supervision {
	out := wire.Supervision{SupervisionID: string(g.ID), SupervisorID: string(g.SupervisorID), DepartmentID: string(g.DepartmentID),
		Reason: g.Reason, TicketID: g.TicketID, Status: string(g.Status), CreatedAt: g.CreatedAt, ExpiresAt: g.ExpiresAt,
		ApprovedBy: string(g.ApprovedBy)}
	if !g.ApprovedAt.IsZero() {
		t := g.ApprovedAt
		out.ApprovedAt = &t
	}
	if !g.EndedAt.IsZero() {
		t := g.EndedAt
		out.EndedAt = &t
	}
	return out
}

func supervisionID(c *call) parley.SupervisionID { return parley.SupervisionID(c.r.PathValue("id")) }

func (a *API) openSupervision(c *call) error {
	req := c.body.(*wire.SupervisionRequest)
	if req.DurationMinutes < 0 || req.DurationMinutes > 100_000 {
		return parley.Errorf(parley.CodeInvalid, "duration_minutes must be 1 to 480")
	}
	g, err := a.svc.Supervision.Open(c.r.Context(), c.actor, parley.SupervisionRequest{
		DepartmentID: parley.DepartmentID(req.DepartmentID), Reason: req.Reason, TicketID: req.TicketID,
		Duration: time.Duration(req.DurationMinutes) * time.Minute})
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusCreated, wire.SupervisionOpened{SupervisionID: string(g.ID), Status: string(g.Status), ExpiresAt: g.ExpiresAt})
	return nil
}

func writeSupervisions(c *call, list []*parley.SupervisionGrant) {
	out := wire.SupervisionList{Supervisions: make([]wire.Supervision, len(list))}
	for i, g := range list {
		out.Supervisions[i] = wireSupervision(g)
	}
	writeJSON(c.w, http.StatusOK, out)
}

func (a *API) supervisions(c *call) error {
	list, err := a.svc.Supervision.Grants(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	writeSupervisions(c, list)
	return nil
}

func (a *API) pendingSupervisions(c *call) error {
	list, err := a.svc.Supervision.Pending(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	writeSupervisions(c, list)
	return nil
}

func (a *API) approveSupervision(c *call) error {
	g, err := a.svc.Supervision.Approve(c.r.Context(), c.actor, supervisionID(c))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireSupervision(g))
	return nil
}

func (a *API) denySupervision(c *call) error {
	req := c.body.(*wire.SupervisionDenyRequest)
	g, err := a.svc.Supervision.Deny(c.r.Context(), c.actor, supervisionID(c), req.Reason)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wireSupervision(g))
	return nil
}

func (a *API) endSupervision(c *call) error {
	if err := a.svc.Supervision.End(c.r.Context(), c.actor, supervisionID(c)); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) supervisedConversations(c *call) error {
	g, list, err := a.svc.Supervision.Conversations(c.r.Context(), c.actor, supervisionID(c),
		parley.ConversationID(c.query["after"]), int(min(c.intQuery("limit"), 1_000_000)))
	if err != nil {
		return err
	}
	out := wire.SupervisedConversationList{Supervised: true, SupervisionID: string(g.ID), Conversations: make([]wire.Conversation, len(list))}
	for i, conv := range list {
		out.Conversations[i] = wireConversation(conv)
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) supervisedHistory(c *call) error {
	h, err := a.svc.Supervision.History(c.r.Context(), c.actor, supervisionID(c), parley.ConversationID(c.r.PathValue("cid")),
		c.intQuery("after_seq"), int(min(c.intQuery("limit"), 1_000_000)))
	if err != nil {
		return err
	}
	out := wire.SupervisedMessageList{Supervised: true, SupervisionID: string(h.Grant.ID), ConversationID: string(h.ConversationID),
		Messages: make([]wire.SupervisedMessage, len(h.Messages))}
	for i, m := range h.Messages {
		wm := wire.SupervisedMessage{MessageID: string(m.ID), Seq: m.Seq, SenderID: string(m.SenderID), SentAt: m.SentAt,
			Recalled: !m.RecalledAt.IsZero(), E2EE: m.E2EE}
		if m.E2EE {
			wm.Ciphertext = base64.StdEncoding.EncodeToString(m.Sealed) // the server cannot open it (Z3)
		} else {
			wm.Body = string(m.Body)
		}
		out.Messages[i] = wm
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) supervisedRecall(c *call) error {
	seq, err := strconv.ParseInt(c.r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		return parley.Errorf(parley.CodeInvalid, "seq must be a positive integer")
	}
	if err := a.svc.Supervision.Recall(c.r.Context(), c.actor, supervisionID(c), parley.ConversationID(c.r.PathValue("cid")), seq); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) supervisedMute(c *call) error {
	req := c.body.(*wire.MuteRequest)
	if req.Minutes < 1 || req.Minutes > 1_000_000 {
		return parley.Errorf(parley.CodeInvalid, "minutes must be 1 to 10080")
	}
	m, err := a.svc.Supervision.Mute(c.r.Context(), c.actor, supervisionID(c), parley.ConversationID(c.r.PathValue("cid")),
		parley.UserID(req.UserID), time.Duration(req.Minutes)*time.Minute)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.MuteResponse{Supervised: true, SupervisionID: string(m.GrantID),
		ConversationID: string(m.ConversationID), UserID: string(m.UserID), MutedUntil: m.Until})
	return nil
}

func (a *API) getSupervisionPolicy(c *call) error {
	p, err := a.svc.Supervision.SupervisionPolicy(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.SupervisionPolicy{RequireApproval: p.RequireApproval})
	return nil
}

func (a *API) putSupervisionPolicy(c *call) error {
	req := c.body.(*wire.SupervisionPolicy)
	p := &parley.SupervisionPolicy{RequireApproval: req.RequireApproval}
	if err := a.svc.Supervision.SetSupervisionPolicy(c.r.Context(), c.actor, p); err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, wire.SupervisionPolicy{RequireApproval: p.RequireApproval})
	return nil
}
