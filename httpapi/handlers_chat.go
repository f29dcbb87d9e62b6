package httpapi

import (
	"encoding/hex"
	"net/http"
	"sort"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

func (a *API) createConversation(c *call) error {
	req := c.body.(*wire.CreateConversationRequest)
	if len(req.MemberIDs) > 1000 {
		return parley.Errorf(parley.CodeInvalid, "too many member_ids")
	}
	ids := make([]parley.UserID, len(req.MemberIDs))
	for i, id := range req.MemberIDs {
		ids[i] = parley.UserID(id)
	}
	conv, err := a.svc.Chat.CreateConversation(c.r.Context(), c.actor, parley.ConversationType(req.Type), ids, req.Title)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusCreated, wire.ConversationIDResponse{ConversationID: string(conv.ID)})
	return nil
}

func wireConversation(conv *parley.Conversation) wire.Conversation {
	members := make([]string, len(conv.MemberIDs))
	for i, m := range conv.MemberIDs {
		members[i] = string(m)
	}
	return wire.Conversation{ConversationID: string(conv.ID), Type: string(conv.Type), Title: conv.Title,
		MemberIDs: members, LastSeq: conv.LastSeq, ReadOnly: conv.ReadOnly}
}

func (a *API) conversations(c *call) error {
	list, err := a.svc.Chat.Conversations(c.r.Context(), c.actor)
	if err != nil {
		return err
	}
	out := wire.ConversationList{Conversations: make([]wire.Conversation, len(list))}
	for i, conv := range list {
		out.Conversations[i] = wireConversation(conv)
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) send(c *call) error {
	req := c.body.(*wire.SendRequest)
	res, err := a.svc.Chat.Send(c.r.Context(), c.actor, parley.ConversationID(c.r.PathValue("id")), req.ClientMsgID, req.Body)
	if err != nil {
		return err
	}
	m := res.Message
	writeJSON(c.w, http.StatusCreated, wire.SendResponse{MessageID: string(m.ID), Seq: m.Seq, SentAt: m.SentAt})
	return nil
}

func wireMessage(m *parley.Message) wire.Message {
	return wire.Message{MessageID: string(m.ID), Seq: m.Seq, SenderID: string(m.SenderID), Body: string(m.Body), SentAt: m.SentAt,
		Recalled: !m.RecalledAt.IsZero()}
}

func (a *API) history(c *call) error {
	msgs, err := a.svc.Chat.History(c.r.Context(), c.actor, parley.ConversationID(c.r.PathValue("id")),
		c.intQuery("after_seq"), c.intQuery("before_seq"), int(c.intQuery("limit")))
	if err != nil {
		return err
	}
	out := wire.MessageList{Messages: make([]wire.Message, len(msgs))}
	for i, m := range msgs {
		out.Messages[i] = wireMessage(m)
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) markRead(c *call) error {
	req := c.body.(*wire.ReadRequest)
	if err := a.svc.Chat.MarkRead(c.r.Context(), c.actor, parley.ConversationID(c.r.PathValue("id")), req.Seq); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) readMarkers(c *call) error {
	m, err := a.svc.Chat.ReadMarkers(c.r.Context(), c.actor, parley.ConversationID(c.r.PathValue("id")))
	if err != nil {
		return err
	}
	out := wire.ReadMarkerList{ReadMarkers: make([]wire.ReadMarker, 0, len(m))}
	for u, seq := range m {
		out.ReadMarkers = append(out.ReadMarkers, wire.ReadMarker{UserID: string(u), Seq: seq})
	}
	sort.Slice(out.ReadMarkers, func(i, j int) bool { return out.ReadMarkers[i].UserID < out.ReadMarkers[j].UserID })
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (a *API) auditList(c *call) error {
	limit := int(c.intQuery("limit"))
	if limit == 0 {
		limit = 100
	}
	if limit > 1000 {
		return parley.Errorf(parley.CodeInvalid, "limit must be 1 to 1000")
	}
	recs, err := a.svc.Audit.List(c.r.Context(), c.actor, c.intQuery("after_seq"), limit)
	if err != nil {
		return err
	}
	out := wire.AuditList{Records: make([]wire.AuditRecord, len(recs))}
	for i, r := range recs {
		out.Records[i] = wire.AuditRecord{Seq: r.Seq, Time: r.Time, ActorID: string(r.ActorID), ActorName: r.ActorName,
			Action: r.Action, Target: r.Target, SourceIP: r.SourceIP, Result: r.Result, Reason: r.Reason,
			PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash)}
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}
