package chat

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// TestEncodeMessageMatchesWire: the hand-appended hot-path encoding is the
// same JSON as encoding wire.MessageFrame, for plain and awkward bodies.
func TestEncodeMessageMatchesWire(t *testing.T) {
	m := &parley.Message{ID: "m_abc", ConversationID: "c_def", Seq: 42, SenderID: "u_ghi",
		SentAt: time.Date(2026, 11, 27, 9, 0, 0, 123456000, time.UTC)}
	for _, body := range []string{"hello", `quote " and \ backslash`, "line\nbreak\ttab", "<script>&amp;</script>",
		"中文消息 😀", "\u2028\u2029", "\x01control", ""} {
		got := EncodeMessage(m, []byte(body))
		var a, b wire.MessageFrame
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("body %q: invalid JSON %s: %v", body, got, err)
		}
		want, _ := json.Marshal(wire.MessageFrame{Type: wire.FrameMessage, ConversationID: string(m.ConversationID),
			MessageID: string(m.ID), Seq: m.Seq, SenderID: string(m.SenderID), Body: body, SentAt: m.SentAt})
		_ = json.Unmarshal(want, &b)
		if a != b {
			t.Fatalf("body %q: decoded %+v, want %+v", body, a, b)
		}
	}
}

func TestValidateClientMsgID(t *testing.T) {
	for id, ok := range map[string]bool{
		"a": true, "550e8400-e29b-41d4-a716-446655440000": true, "dev:1.2_3": true,
		"": false, strings.Repeat("a", 65): false, "has space": false, "semi;colon": false, "ü": false,
	} {
		if err := ValidateClientMsgID(id); (err == nil) != ok {
			t.Errorf("%q: err = %v, want ok=%v", id, err, ok)
		}
	}
}

func TestValidateBody(t *testing.T) {
	cases := []struct {
		body string
		code parley.Code
	}{
		{"hello", ""},
		{"多行\n消息", ""},
		{"", parley.CodeInvalid},
		{"   \n", parley.CodeInvalid},
		{"nul\x00byte", parley.CodeInvalid},
		{"\xff", parley.CodeInvalid},
		{strings.Repeat("a", wire.MaxMessageLen), ""},
		{strings.Repeat("a", wire.MaxMessageLen+1), parley.CodeTooLarge},
	}
	for _, c := range cases {
		if got := parley.ErrorCode(validateBody(c.body)); got != c.code {
			t.Errorf("body of %d bytes: code %q, want %q", len(c.body), got, c.code)
		}
	}
}
