package crypt

import (
	"bytes"
	"errors"
	"testing"

	"github.com/parleyhq/parley"
)

func TestMessageAADUnambiguous(t *testing.T) {
	type triple struct {
		conv parley.ConversationID
		id   parley.MessageID
		seq  int64
	}
	// Pairs that naive concatenation would encode alike.
	pairs := [][2]triple{
		{{"c_a", "bm_x", 1}, {"c_ab", "m_x", 1}},
		{{"c_", "", 1}, {"", "c_", 1}},
		{{"c_1", "m_1", 1}, {"c_1", "m_1", 256}},
		{{"c_1", "m_1", -1}, {"c_1", "m_1", 1<<63 - 1}},
	}
	for _, p := range pairs {
		a := MessageAAD(p[0].conv, p[0].id, p[0].seq)
		b := MessageAAD(p[1].conv, p[1].id, p[1].seq)
		if bytes.Equal(a, b) {
			t.Errorf("%v and %v encode alike", p[0], p[1])
		}
	}
	got := MessageAAD("c", "m", 1)
	want := []byte("\x00\x00\x00\x0dparley/msg/v1\x00\x00\x00\x01c\x00\x00\x00\x01m\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01")
	if !bytes.Equal(got, want) {
		t.Fatalf("MessageAAD = %q, want %q", got, want)
	}
}

func TestSealOpenMessage(t *testing.T) {
	dek := NewKey()
	m := &parley.Message{ID: "m_1", ConversationID: "c_1", Seq: 7, KeyEpoch: 3}
	if err := SealMessage(dek, m, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m.KeyEpoch != 3 || m.Body != nil || len(m.Sealed) == 0 {
		t.Fatalf("SealMessage changed the wrong fields: %+v", m)
	}
	body, err := OpenMessage(dek, m)
	if err != nil || string(body) != "hi" {
		t.Fatalf("OpenMessage = %q, %v", body, err)
	}
}

// TestMessageMovedRow checks D2's binding: a sealed body copied to another
// row, conversation or sequence number does not open.
func TestMessageMovedRow(t *testing.T) {
	dek := NewKey()
	orig := parley.Message{ID: "m_1", ConversationID: "c_1", Seq: 5}
	if err := SealMessage(dek, &orig, []byte("secret plan")); err != nil {
		t.Fatal(err)
	}
	moves := []struct {
		name string
		edit func(m *parley.Message)
	}{
		{"other conversation", func(m *parley.Message) { m.ConversationID = "c_2" }},
		{"other message ID", func(m *parley.Message) { m.ID = "m_2" }},
		{"other seq", func(m *parley.Message) { m.Seq = 6 }},
		{"shifted boundary", func(m *parley.Message) { m.ConversationID, m.ID = "c_1m", "_1" }},
	}
	for _, mv := range moves {
		m := orig
		mv.edit(&m)
		if _, err := OpenMessage(dek, &m); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: err = %v", mv.name, err)
		}
	}
	if _, err := OpenMessage(NewKey(), &orig); !errors.Is(err, ErrDecrypt) {
		t.Errorf("other epoch's key: err = %v", err)
	}
}

func TestSealMessageRefusesUnbound(t *testing.T) {
	for _, m := range []*parley.Message{
		nil,
		{ConversationID: "c", Seq: 1},
		{ID: "m", Seq: 1},
		{ID: "m", ConversationID: "c"},
		{ID: "m", ConversationID: "c", Seq: -1},
	} {
		if err := SealMessage(NewKey(), m, []byte("x")); err == nil {
			t.Errorf("sealed %+v", m)
		}
	}
	if _, err := OpenMessage(NewKey(), nil); err == nil {
		t.Error("opened nil message")
	}
}
