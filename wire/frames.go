package wire

import "time"

// WebSocket frame types (API-CORE.md, docs/websocket.md).
const (
	FrameSend    = "send"    // client → server
	FrameAck     = "ack"     // server → client, once stored
	FrameMessage = "message" // server → client
	FrameSync    = "sync"    // client → server
	FrameSynced  = "synced"  // server → client, after the missed messages
	FrameTyping  = "typing"  // both ways
	FrameRead    = "read"    // both ways: read receipts
	FrameError   = "error"   // server → client
	// FrameRecalled tells members that a message was recalled (Z3): its
	// body is gone, clients drop what they show of it.
	FrameRecalled = "recalled" // server → client
	// FrameMemberRemoved tells the remaining members that someone left a
	// conversation (offboarding, Z8); history stays.
	FrameMemberRemoved = "member_removed" // server → client
)

// ClientFrame is any frame a client may send. Which fields are allowed
// depends on Type; DecodeClientFrame checks that.
type ClientFrame struct {
	Type           string           `json:"type"`
	ConversationID string           `json:"conversation_id,omitempty"`
	ClientMsgID    string           `json:"client_msg_id,omitempty"`
	Body           *string          `json:"body,omitempty"`
	Cursors        map[string]int64 `json:"cursors,omitempty"`
	Seq            int64            `json:"seq,omitempty"`
}

// AckFrame confirms that a sent message is durably stored.
type AckFrame struct {
	Type        string `json:"type"`
	ClientMsgID string `json:"client_msg_id"`
	MessageID   string `json:"message_id"`
	Seq         int64  `json:"seq"`
}

// MessageFrame delivers a message.
type MessageFrame struct {
	Type           string    `json:"type"`
	ConversationID string    `json:"conversation_id"`
	MessageID      string    `json:"message_id"`
	Seq            int64     `json:"seq"`
	SenderID       string    `json:"sender_id"`
	Body           string    `json:"body"`
	SentAt         time.Time `json:"sent_at"`
	// Recalled marks a recalled message in a sync: its body is empty.
	Recalled bool `json:"recalled,omitempty"`
}

// RecalledFrame tells members that the message with Seq was recalled.
type RecalledFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
}

// MemberRemovedFrame tells members that UserID is no longer in the
// conversation.
type MemberRemovedFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	UserID         string `json:"user_id"`
}

// SyncedFrame ends a sync.
type SyncedFrame struct {
	Type string `json:"type"`
}

// TypingFrame tells members that someone is typing.
type TypingFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	UserID         string `json:"user_id"`
}

// ReadFrame tells members that someone has read up to Seq.
type ReadFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	UserID         string `json:"user_id"`
	Seq            int64  `json:"seq"`
}

// ErrorFrame answers a bad frame. ClientMsgID echoes a failed send.
type ErrorFrame struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	Message     string `json:"message"`
	ClientMsgID string `json:"client_msg_id,omitempty"`
}

// ServerFrame is any frame the server sends, as the SDK decodes it.
type ServerFrame struct {
	Type           string    `json:"type"`
	ConversationID string    `json:"conversation_id,omitempty"`
	ClientMsgID    string    `json:"client_msg_id,omitempty"`
	MessageID      string    `json:"message_id,omitempty"`
	Seq            int64     `json:"seq,omitempty"`
	SenderID       string    `json:"sender_id,omitempty"`
	UserID         string    `json:"user_id,omitempty"`
	Body           string    `json:"body,omitempty"`
	SentAt         time.Time `json:"sent_at,omitzero"`
	Recalled       bool      `json:"recalled,omitempty"`
	Code           string    `json:"code,omitempty"`
	Message        string    `json:"message,omitempty"`
}

// CheckClientFrame checks that a decoded client frame has exactly the
// fields its type allows (I2): a send without a body, or a sync carrying a
// body, is refused rather than half-understood.
func CheckClientFrame(f *ClientFrame) error {
	bad := func(msg string) error { return &DecodeError{Msg: msg} }
	switch f.Type {
	case FrameSend:
		if f.ConversationID == "" || f.ClientMsgID == "" || f.Body == nil {
			return bad("send needs conversation_id, client_msg_id and body")
		}
		if f.Cursors != nil || f.Seq != 0 {
			return bad("send takes only conversation_id, client_msg_id and body")
		}
	case FrameSync:
		if f.Cursors == nil || f.ConversationID != "" || f.ClientMsgID != "" || f.Body != nil || f.Seq != 0 {
			return bad("sync takes only cursors")
		}
		if len(f.Cursors) > MaxSyncCursors {
			return bad("too many cursors")
		}
		for _, v := range f.Cursors {
			if v < 0 {
				return bad("cursors must not be negative")
			}
		}
	case FrameTyping:
		if f.ConversationID == "" || f.ClientMsgID != "" || f.Body != nil || f.Cursors != nil || f.Seq != 0 {
			return bad("typing takes only conversation_id")
		}
	case FrameRead:
		if f.ConversationID == "" || f.ClientMsgID != "" || f.Body != nil || f.Cursors != nil || f.Seq < 0 {
			return bad("read takes conversation_id and seq")
		}
	case "":
		return bad("frame has no type")
	default:
		return bad("unknown frame type")
	}
	return nil
}

// MaxSyncCursors bounds one sync frame.
const MaxSyncCursors = 1000
