package chat

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// EncodeMessage renders the message frame once for every recipient. It is
// on the hot path, hence appended by hand; TestEncodeMessageMatchesWire
// proves it equals encoding wire.MessageFrame.
func EncodeMessage(m *parley.Message, body []byte) []byte {
	b := make([]byte, 0, 160+len(body)+len(body)/8)
	b = append(b, `{"type":"message","conversation_id":`...)
	b = appendString(b, string(m.ConversationID))
	b = append(b, `,"message_id":`...)
	b = appendString(b, string(m.ID))
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, `,"sender_id":`...)
	b = appendString(b, string(m.SenderID))
	b = append(b, `,"body":`...)
	b = appendString(b, string(body))
	b = append(b, `,"sent_at":"`...)
	b = m.SentAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	return b
}

// appendString appends s as a JSON string. Only identifiers (ASCII) and
// bodies reach it; json.Marshal handles the escaping rules for anything
// unusual, the fast path covers plain text.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func encodeTyping(c parley.ConversationID, u parley.UserID) []byte {
	b, _ := json.Marshal(wire.TypingFrame{Type: wire.FrameTyping, ConversationID: string(c), UserID: string(u)})
	return b
}

func encodeRead(c parley.ConversationID, u parley.UserID, seq int64) []byte {
	b, _ := json.Marshal(wire.ReadFrame{Type: wire.FrameRead, ConversationID: string(c), UserID: string(u), Seq: seq})
	return b
}
