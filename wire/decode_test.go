package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeStrict(t *testing.T) {
	cases := []struct {
		name, in string
		ok       bool
		tooLarge bool
	}{
		{"valid", `{"client_msg_id":"a","body":"b"}`, true, false},
		{"unknown field", `{"client_msg_id":"a","body":"b","x":1}`, false, false},
		{"wrong type", `{"client_msg_id":1,"body":"b"}`, false, false},
		{"trailing object", `{"client_msg_id":"a","body":"b"}{}`, false, false},
		{"trailing garbage", `{"client_msg_id":"a","body":"b"} x`, false, false},
		{"truncated", `{"client_msg_id":"a"`, false, false},
		{"empty", ``, false, false},
		{"whitespace", "  \n", false, false},
		{"array", `[1]`, false, false},
		{"invalid utf-8", "{\"client_msg_id\":\"\xc3\x28\",\"body\":\"b\"}", false, false},
		{"too large", `{"client_msg_id":"a","body":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v SendRequest
			err := Decode(strings.NewReader(c.in), MaxBodyBytes, &v)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			var de *DecodeError
			if err != nil && (!errors.As(err, &de) || de.TooLarge != c.tooLarge) {
				t.Fatalf("err = %#v, want TooLarge=%v", err, c.tooLarge)
			}
		})
	}
}

// TestDecodeErrorNeverEchoesInput: a message must name the problem, not
// repeat the value, which may be a password.
func TestDecodeErrorNeverEchoesInput(t *testing.T) {
	var v LoginRequest
	err := DecodeBytes([]byte(`{"username":"a","password":12345678901}`), &v)
	if err == nil || strings.Contains(err.Error(), "12345678901") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckClientFrame(t *testing.T) {
	body := "hi"
	cases := []struct {
		name string
		f    ClientFrame
		ok   bool
	}{
		{"send", ClientFrame{Type: FrameSend, ConversationID: "c", ClientMsgID: "m", Body: &body}, true},
		{"send without body", ClientFrame{Type: FrameSend, ConversationID: "c", ClientMsgID: "m"}, false},
		{"send with cursors", ClientFrame{Type: FrameSend, ConversationID: "c", ClientMsgID: "m", Body: &body, Cursors: map[string]int64{}}, false},
		{"sync", ClientFrame{Type: FrameSync, Cursors: map[string]int64{"c": 3}}, true},
		{"sync empty", ClientFrame{Type: FrameSync, Cursors: map[string]int64{}}, true},
		{"sync without cursors", ClientFrame{Type: FrameSync}, false},
		{"sync negative", ClientFrame{Type: FrameSync, Cursors: map[string]int64{"c": -1}}, false},
		{"typing", ClientFrame{Type: FrameTyping, ConversationID: "c"}, true},
		{"typing with body", ClientFrame{Type: FrameTyping, ConversationID: "c", Body: &body}, false},
		{"read", ClientFrame{Type: FrameRead, ConversationID: "c", Seq: 4}, true},
		{"read negative", ClientFrame{Type: FrameRead, ConversationID: "c", Seq: -4}, false},
		{"no type", ClientFrame{}, false},
		{"server type", ClientFrame{Type: FrameAck}, false},
	}
	for _, c := range cases {
		if err := CheckClientFrame(&c.f); (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	many := map[string]int64{}
	for i := 0; i <= MaxSyncCursors; i++ {
		many[strings.Repeat("c", 1+i%7)+string(rune('a'+i%26))+strings.Repeat("x", i/182)] = 1
	}
	if len(many) > MaxSyncCursors {
		if err := CheckClientFrame(&ClientFrame{Type: FrameSync, Cursors: many}); err == nil {
			t.Error("too many cursors accepted")
		}
	}
}

// FuzzDecodeClientFrame: no input makes the frame decoder panic, and
// whatever it accepts passes its own checks consistently.
func FuzzDecodeClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"send","conversation_id":"c","client_msg_id":"m","body":"x"}`,
		`{"type":"sync","cursors":{"c_1":5}}`, `{"type":"typing","conversation_id":"c"}`,
		`{"type":"read","conversation_id":"c","seq":3}`, `{"type":"send","body":null}`, `{}`, `[]`, `"\u0000"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fr ClientFrame
		if err := DecodeBytes(data, &fr); err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		_ = CheckClientFrame(&fr)
	})
}
