package notify

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestFileSinkWritesPrivateJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	s, err := NewFileSink(path)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []Message{
		{Channel: ChannelEmail, To: "alice@example.com", Subject: "Code", Body: "Your code is 123456."},
		{Channel: ChannelSMS, To: "+15551234567", Body: "Parley code 654321"},
	}
	for _, m := range msgs {
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", fi.Mode().Perm())
	}
	recs, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].To != "alice@example.com" || recs[1].Channel != ChannelSMS || recs[1].Body != "Parley code 654321" {
		t.Fatalf("records %+v", recs)
	}
	if !s.Supports(ChannelEmail) || !s.Supports(ChannelSMS) || s.Supports("fax") {
		t.Fatal("Supports")
	}
}

func TestFileSinkRefusesReadableFileAndBadMessages(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.jsonl")
	if err := os.WriteFile(open, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileSink(open); err == nil {
		t.Fatal("a world-readable sink file was accepted")
	}
	if _, err := NewFileSink(""); err == nil {
		t.Fatal("empty path accepted")
	}
	s, err := NewFileSink(filepath.Join(dir, "ok.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Message{
		{Channel: "fax", To: "x", Body: "b"},
		{Channel: ChannelEmail, To: "", Body: "b"},
		{Channel: ChannelEmail, To: "a@example.com\nBcc: e@example.com", Body: "b"},
	} {
		if err := s.Send(context.Background(), m); err == nil {
			t.Errorf("sent %+v", m)
		}
	}
}
