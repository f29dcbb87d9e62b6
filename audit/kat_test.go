package audit

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

var update = flag.Bool("update", false, "rewrite testdata/chain.json (only when the encoding version changes)")

const katPath = "testdata/chain.json"

// jsonRecord is a record as written in testdata/chain.json and read by
// offline verifiers (docs/audit-chain.md).
type jsonRecord struct {
	Seq       int64  `json:"seq"`
	Time      string `json:"time"`
	ActorID   string `json:"actor_id"`
	ActorName string `json:"actor_name"`
	Action    string `json:"action"`
	Target    string `json:"target"`
	SourceIP  string `json:"source_ip"`
	Result    string `json:"result"`
	Reason    string `json:"reason"`
	PrevHash  string `json:"prev_hash"`
	Hash      string `json:"hash"`
}

type katFile struct {
	Encoding string       `json:"encoding"`
	Note     string       `json:"note"`
	Valid    []jsonRecord `json:"valid"`
	Tampered []struct {
		Name    string       `json:"name"`
		BadSeq  int64        `json:"bad_seq"`
		Records []jsonRecord `json:"records"`
	} `json:"tampered"`
}

func toJSON(r *parley.AuditRecord) jsonRecord {
	return jsonRecord{r.Seq, r.Time.UTC().Format(timeLayout), string(r.ActorID), r.ActorName, r.Action,
		r.Target, r.SourceIP, r.Result, r.Reason, hex.EncodeToString(r.PrevHash), hex.EncodeToString(r.Hash)}
}

func fromJSON(t *testing.T, j jsonRecord) *parley.AuditRecord {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, j.Time)
	if err != nil {
		t.Fatal(err)
	}
	prev, err1 := hex.DecodeString(j.PrevHash)
	hash, err2 := hex.DecodeString(j.Hash)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return &parley.AuditRecord{Seq: j.Seq, Time: tm, ActorID: parley.UserID(j.ActorID), ActorName: j.ActorName,
		Action: j.Action, Target: j.Target, SourceIP: j.SourceIP, Result: j.Result, Reason: j.Reason,
		PrevHash: prev, Hash: hash}
}

// katChain is the fixed content of the known-answer chain: an anonymous
// caller, non-ASCII text, a CRLF kept byte for byte, a zero fraction.
func katChain(t *testing.T) []*parley.AuditRecord {
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recs := []*parley.AuditRecord{
		{Time: base, Action: "system.setup", Target: "u_admin", SourceIP: "127.0.0.1", Result: parley.ResultSuccess},
		{Time: base.Add(1234567 * time.Microsecond), ActorID: "u_admin", ActorName: "admin", Action: "auth.login", Target: "u_admin", SourceIP: "192.0.2.10", Result: parley.ResultSuccess},
		{Time: base.Add(90 * time.Second), ActorName: "zhāng.wěi", Action: "auth.login", Target: "zhāng.wěi", SourceIP: "2001:db8::7", Result: parley.ResultFailure, Reason: "bad credentials"},
		{Time: base.Add(91*time.Second + 500*time.Microsecond), ActorID: "u_admin", ActorName: "admin", Action: "user.role_change", Target: "u_bob\r\nfake=1", SourceIP: "192.0.2.10", Result: parley.ResultDenied, Reason: "step-up required"},
		{Time: base.Add(time.Hour), ActorID: "u_auditor", ActorName: "审计员", Action: "audit.export", Target: "", SourceIP: "192.0.2.11", Result: parley.ResultSuccess, Reason: "quarterly review"},
	}
	var prev *parley.AuditRecord
	for i, r := range recs {
		r.Seq = int64(i + 1)
		if err := Link(prev, r); err != nil {
			t.Fatal(err)
		}
		prev = r
	}
	return recs
}

func TestKnownAnswerChain(t *testing.T) {
	if *update {
		writeKAT(t)
	}
	raw, err := os.ReadFile(katPath)
	if err != nil {
		t.Fatal(err)
	}
	var f katFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if f.Encoding != encodingLabel || len(f.Valid) == 0 || len(f.Tampered) == 0 {
		t.Fatalf("unexpected file: encoding %q, %d valid, %d tampered", f.Encoding, len(f.Valid), len(f.Tampered))
	}
	// Recompute each stored hash from the record's fields.
	var recs []*parley.AuditRecord
	for _, j := range f.Valid {
		r := fromJSON(t, j)
		h, err := recordHash(r)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(h) != j.Hash {
			t.Fatalf("seq %d: hash %x, want %s", j.Seq, h, j.Hash)
		}
		recs = append(recs, r)
	}
	if err := Verify(recs, nil); err != nil {
		t.Fatal(err)
	}
	// The generator still produces exactly the committed chain.
	for i, r := range katChain(t) {
		if toJSON(r) != f.Valid[i] {
			t.Fatalf("record %d: generated %+v, committed %+v", i, toJSON(r), f.Valid[i])
		}
	}
	for _, tc := range f.Tampered {
		var recs []*parley.AuditRecord
		for _, j := range tc.Records {
			recs = append(recs, fromJSON(t, j))
		}
		t.Run(tc.Name, func(t *testing.T) { assertBroken(t, Verify(recs, nil), tc.BadSeq) })
	}
}

func writeKAT(t *testing.T) {
	recs := katChain(t)
	f := katFile{Encoding: encodingLabel,
		Note: "Known-answer audit chain for docs/audit-chain.md. 'valid' verifies from genesis; each 'tampered' chain must fail first at bad_seq."}
	for _, r := range recs {
		f.Valid = append(f.Valid, toJSON(r))
	}
	tamper := func(name string, bad int64, edit func(js []jsonRecord) []jsonRecord) {
		js := edit(append([]jsonRecord(nil), f.Valid...))
		f.Tampered = append(f.Tampered, struct {
			Name    string       `json:"name"`
			BadSeq  int64        `json:"bad_seq"`
			Records []jsonRecord `json:"records"`
		}{name, bad, js})
	}
	tamper("result changed", 3, func(js []jsonRecord) []jsonRecord { js[2].Result = "success"; return js })
	tamper("time changed by 1 microsecond", 2, func(js []jsonRecord) []jsonRecord { js[1].Time = "2026-03-01T09:00:01.234568Z"; return js })
	tamper("record 3 deleted", 4, func(js []jsonRecord) []jsonRecord { return append(js[:2], js[3:]...) })
	tamper("records 3 and 4 swapped", 4, func(js []jsonRecord) []jsonRecord { js[2], js[3] = js[3], js[2]; return js })
	tamper("hash of record 4 replaced", 4, func(js []jsonRecord) []jsonRecord {
		js[3].Hash = "0000000000000000000000000000000000000000000000000000000000000000"
		return js
	})
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(katPath, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
