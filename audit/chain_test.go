package audit

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// makeChain links n records as a store would.
func makeChain(t *testing.T, n int) []*parley.AuditRecord {
	t.Helper()
	var out []*parley.AuditRecord
	var prev *parley.AuditRecord
	for i := range n {
		rec := &parley.AuditRecord{
			Seq:       int64(i + 1),
			Time:      t0.Add(time.Duration(i) * 1500 * time.Microsecond),
			ActorID:   parley.UserID(fmt.Sprintf("u_%d", i%3)),
			ActorName: fmt.Sprintf("user%d", i%3),
			Action:    "auth.login",
			Target:    fmt.Sprintf("u_%d", i%3),
			SourceIP:  "192.0.2.7",
			Result:    parley.ResultSuccess,
		}
		if err := Link(prev, rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
		prev = rec
	}
	return out
}

func clone(recs []*parley.AuditRecord) []*parley.AuditRecord {
	out := make([]*parley.AuditRecord, len(recs))
	for i, r := range recs {
		c := *r
		c.PrevHash, c.Hash = bytes.Clone(r.PrevHash), bytes.Clone(r.Hash)
		out[i] = &c
	}
	return out
}

func TestChainVerifies(t *testing.T) {
	recs := makeChain(t, 50)
	if !bytes.Equal(recs[0].PrevHash, make([]byte, HashSize)) {
		t.Fatal("first record's prev_hash is not the genesis value")
	}
	if err := Verify(recs, nil); err != nil {
		t.Fatal(err)
	}
	// A window verifies against its predecessor's hash, not against genesis.
	if err := Verify(recs[20:], recs[19].Hash); err != nil {
		t.Fatal(err)
	}
	assertBroken(t, Verify(recs[20:], nil), 21)
	assertBroken(t, Verify(recs[20:], recs[18].Hash), 21)
	if err := Verify(nil, nil); err != nil {
		t.Fatal(err)
	}
}

func assertBroken(t *testing.T, err error, seq int64) {
	t.Helper()
	var ce *ChainError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ChainError at %d", err, seq)
	}
	if ce.Seq != seq {
		t.Fatalf("broken at %d (%s), want %d", ce.Seq, ce.Reason, seq)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(r []*parley.AuditRecord) []*parley.AuditRecord
		seq    int64
	}{
		{"actor id", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[3].ActorID = "u_x"; return r }, 4},
		{"actor name", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[3].ActorName = "root"; return r }, 4},
		{"action", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[4].Action = "auth.logout"; return r }, 5},
		{"target", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[4].Target = ""; return r }, 5},
		{"source ip", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[5].SourceIP = "10.0.0.1"; return r }, 6},
		{"result", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[6].Result = parley.ResultDenied; return r }, 7},
		{"reason", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[7].Reason = "approved"; return r }, 8},
		{"time by 1µs", func(r []*parley.AuditRecord) []*parley.AuditRecord {
			r[2].Time = r[2].Time.Add(time.Microsecond)
			return r
		}, 3},
		{"seq", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[9].Seq = 11; return r }, 11},
		{"first record", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[0].Reason = "x"; return r }, 1},
		{"last record", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[9].Target = "x"; return r }, 10},
		{"hash", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[4].Hash[0] ^= 1; return r }, 5},
		{"hash truncated", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[4].Hash = r[4].Hash[:31]; return r }, 5},
		{"prev hash", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[4].PrevHash[31] ^= 1; return r }, 5},
		{"prev hash missing", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[4].PrevHash = nil; return r }, 5},
		{"deleted middle", func(r []*parley.AuditRecord) []*parley.AuditRecord { return append(r[:4], r[5:]...) }, 6},
		{"deleted first", func(r []*parley.AuditRecord) []*parley.AuditRecord { return r[1:] }, 2},
		{"reordered", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[3], r[4] = r[4], r[3]; return r }, 5},
		{"duplicated", func(r []*parley.AuditRecord) []*parley.AuditRecord {
			return append(r[:5:5], append([]*parley.AuditRecord{r[4]}, r[5:]...)...)
		}, 5},
		{"nil record", func(r []*parley.AuditRecord) []*parley.AuditRecord { r[6] = nil; return r }, 7},
		{"rewritten and rehashed", func(r []*parley.AuditRecord) []*parley.AuditRecord {
			// An attacker who edits a record and recomputes its hash breaks
			// the link to the next one.
			r[4].Result = parley.ResultSuccess
			r[4].Reason = "nothing to see"
			if err := Link(r[3], r[4]); err != nil {
				panic(err)
			}
			return r
		}, 6},
		{"renumbered after delete", func(r []*parley.AuditRecord) []*parley.AuditRecord {
			r = append(r[:4], r[5:]...)
			for i := 4; i < len(r); i++ {
				r[i].Seq--
			}
			return r
		}, 5},
	}
	base := makeChain(t, 10)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertBroken(t, Verify(tt.tamper(clone(base)), nil), tt.seq)
		})
	}
}

func TestLinkRefuses(t *testing.T) {
	recs := makeChain(t, 2)
	tests := []struct {
		name      string
		prev, rec *parley.AuditRecord
	}{
		{"nil record", nil, nil},
		{"first with seq 0", nil, &parley.AuditRecord{Seq: 0, Time: t0}},
		{"gap", recs[1], &parley.AuditRecord{Seq: 4, Time: t0}},
		{"same seq", recs[1], &parley.AuditRecord{Seq: 2, Time: t0}},
		{"prev without hash", &parley.AuditRecord{Seq: 1}, &parley.AuditRecord{Seq: 2, Time: t0}},
		{"zero time", recs[1], &parley.AuditRecord{Seq: 3}},
		{"year 10000", recs[1], &parley.AuditRecord{Seq: 3, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		if err := Link(tt.prev, tt.rec); err == nil {
			t.Errorf("%s: linked", tt.name)
		}
	}
}

func TestLinkNormalisesTime(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	rec := &parley.AuditRecord{Seq: 1, Time: time.Date(2026, 3, 1, 17, 0, 0, 123456789, shanghai)}
	if err := Link(nil, rec); err != nil {
		t.Fatal(err)
	}
	if rec.Time != time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC) {
		t.Fatalf("time %v", rec.Time)
	}
	// What the store reads back (µs, any location) verifies.
	back := *rec
	back.Time = rec.Time.In(shanghai)
	if err := Verify([]*parley.AuditRecord{&back}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestEncodingUnambiguous moves bytes across field boundaries: every such
// pair must hash differently.
func TestEncodingUnambiguous(t *testing.T) {
	base := parley.AuditRecord{Seq: 1, Time: t0, ActorName: "ab", Action: "c", PrevHash: make([]byte, HashSize)}
	variants := []func(r *parley.AuditRecord){
		func(r *parley.AuditRecord) { r.ActorName, r.Action = "a", "bc" },
		func(r *parley.AuditRecord) { r.ActorName, r.Action = "abc", "" },
		func(r *parley.AuditRecord) { r.ActorID, r.ActorName = "ab", "" },
		func(r *parley.AuditRecord) { r.Action, r.Target = "", "c" },
		func(r *parley.AuditRecord) { r.Reason = "\x00" },
	}
	h0, err := recordHash(&base)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{string(h0): true}
	for i, v := range variants {
		r := base
		v(&r)
		h, err := recordHash(&r)
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(h)] {
			t.Errorf("variant %d collides", i)
		}
		seen[string(h)] = true
	}
}
