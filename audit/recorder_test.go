package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// memStore is an in-memory parley.AuditStore: one lock serialises appends,
// as the real store's chain lock does.
type memStore struct {
	mu   sync.Mutex
	recs []*parley.AuditRecord
	err  error
}

func (s *memStore) AppendAudit(_ context.Context, rec *parley.AuditRecord, link parley.AuditLink) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	var prev *parley.AuditRecord
	if n := len(s.recs); n > 0 {
		prev = s.recs[n-1]
	}
	rec.Seq = 1
	if prev != nil {
		rec.Seq = prev.Seq + 1
	}
	if err := link(prev, rec); err != nil {
		return err
	}
	c := *rec
	s.recs = append(s.recs, &c)
	return nil
}

func (s *memStore) ListAudit(_ context.Context, after int64, limit int) ([]*parley.AuditRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*parley.AuditRecord
	for _, r := range s.recs {
		if r.Seq > after && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func fixedClock(t time.Time) parley.Clock { return func() time.Time { return t } }

func TestRecorderRecords(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	now := time.Date(2026, 3, 1, 17, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	r := NewRecorder(store, fixedClock(now), nil)
	in := parley.AuditRecord{
		Seq: 99, Time: time.Unix(1, 0), PrevHash: []byte("forged"), Hash: []byte("forged"), // ignored
		ActorID: "u_1", ActorName: "alice", Action: "auth.login", Target: "u_1",
		SourceIP: "192.0.2.1", Result: parley.ResultSuccess,
	}
	for range 3 {
		if err := r.Record(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := store.ListAudit(ctx, 0, 10)
	if len(recs) != 3 || recs[0].Seq != 1 || recs[2].Seq != 3 {
		t.Fatalf("stored %d records", len(recs))
	}
	if want := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC); recs[0].Time != want {
		t.Fatalf("time %v, want %v", recs[0].Time, want)
	}
	if recs[0].ActorName != "alice" || recs[0].Target != "u_1" {
		t.Fatalf("fields changed: %+v", recs[0])
	}
	if err := Verify(recs, nil); err != nil {
		t.Fatal(err)
	}
}

func TestRecorderCleansFields(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	r := NewRecorder(store, fixedClock(t0), nil)
	long := strings.Repeat("é", 200) // 400 bytes
	in := parley.AuditRecord{
		ActorName: "bad\xffutf8\x00nul",
		Action:    "auth.login",
		Target:    long,
		SourceIP:  "x\r\ny", // kept: the trail shows what was sent
		Result:    parley.ResultFailure,
		Reason:    strings.Repeat("r", 5000),
	}
	if err := r.Record(ctx, in); err != nil {
		t.Fatal(err)
	}
	got := store.recs[0]
	if got.ActorName != "bad\uFFFDutf8\uFFFDnul" {
		t.Errorf("actor name %q", got.ActorName)
	}
	if got.SourceIP != "x\r\ny" {
		t.Errorf("source ip %q", got.SourceIP)
	}
	if len(got.Target) > MaxFieldLen || !utf8.ValidString(got.Target) || !strings.HasSuffix(got.Target, "…") || !strings.HasPrefix(got.Target, "éé") {
		t.Errorf("target %d bytes: %q", len(got.Target), got.Target)
	}
	if len(got.Reason) != MaxReasonLen || !strings.HasSuffix(got.Reason, "…") {
		t.Errorf("reason %d bytes", len(got.Reason))
	}
	if err := Verify(store.recs, nil); err != nil {
		t.Fatal(err)
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"", 8, ""},
		{"abc", 8, "abc"},
		{"abcdefgh", 8, "abcdefgh"},
		{"abcdefghi", 8, "abcde…"},
		{"aé€𝄞xyz", 9, "aé€…"},
		{"aé€𝄞xyz", 8, "aé…"}, // byte 5 is inside €: back off to 3
		{"\xff\xfe", 8, "\uFFFD"},
		{"a\x00b", 8, "a\uFFFDb"},
	}
	for _, tt := range tests {
		if got := clean(tt.in, tt.max); got != tt.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestRecorderFailsClosed(t *testing.T) {
	ctx := context.Background()
	var logBuf bytes.Buffer
	store := &memStore{err: errors.New("disk full")}
	r := NewRecorder(store, fixedClock(t0), slog.New(slog.NewTextHandler(&logBuf, nil)))
	err := r.Record(ctx, parley.AuditRecord{Action: "user.create", Result: parley.ResultSuccess})
	if parley.ErrorCode(err) != parley.CodeUnavailable || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(logBuf.String(), "user.create") {
		t.Fatalf("failure not logged: %s", logBuf.String())
	}
	store.err = nil
	for _, bad := range []parley.AuditRecord{
		{Result: parley.ResultSuccess},
		{Action: "x"},
		{Action: "x", Result: "ok"},
	} {
		if err := r.Record(ctx, bad); err == nil {
			t.Errorf("recorded %+v", bad)
		}
	}
	if len(store.recs) != 0 {
		t.Fatal("invalid records were stored")
	}
}

func TestRecorderConcurrent(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	r := NewRecorder(store, parley.SystemClock, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if err := r.Record(ctx, parley.AuditRecord{ActorName: string(rune('a' + g)), Action: "msg.send", Result: parley.ResultSuccess}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if len(store.recs) != 200 {
		t.Fatalf("%d records", len(store.recs))
	}
	if err := Verify(store.recs, nil); err != nil {
		t.Fatal(err)
	}
}
