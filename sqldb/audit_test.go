package sqldb_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/sqldb"
)

// testHash is a stand-in for the audit package's encoding: every field,
// length-prefixed, after the previous hash.
func testHash(prev []byte, r *parley.AuditRecord) []byte {
	h := sha256.New()
	h.Write(prev)
	binary.Write(h, binary.BigEndian, r.Seq)
	binary.Write(h, binary.BigEndian, r.Time.UnixNano())
	for _, s := range []string{string(r.ActorID), r.ActorName, r.Action, r.Target, r.SourceIP, r.Result, r.Reason, r.Time.Location().String()} {
		binary.Write(h, binary.BigEndian, uint32(len(s)))
		h.Write([]byte(s))
	}
	return h.Sum(nil)
}

func testLink(prev, rec *parley.AuditRecord) error {
	rec.PrevHash = nil
	if prev != nil {
		rec.PrevHash = prev.Hash
	}
	rec.Hash = testHash(rec.PrevHash, rec)
	return nil
}

func TestAuditChain(t *testing.T) {
	parleytest.ForEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		recs, err := db.ListAudit(ctx, 0, 10)
		must(t, err)
		if len(recs) != 0 {
			t.Fatalf("empty store lists %d records", len(recs))
		}

		// The first record links to nil.
		first := &parley.AuditRecord{Time: t0, Action: "auth.login", Result: parley.ResultFailure, Reason: "bad password", SourceIP: "192.0.2.7"}
		must(t, db.AppendAudit(ctx, first, func(prev, rec *parley.AuditRecord) error {
			if prev != nil {
				t.Errorf("first record linked to %+v", prev)
			}
			return testLink(prev, rec)
		}))
		if first.Seq != 1 {
			t.Errorf("first Seq = %d", first.Seq)
		}

		// A failing link stores nothing.
		err = db.AppendAudit(ctx, &parley.AuditRecord{Time: t0, Action: "x"}, func(_, _ *parley.AuditRecord) error { return errors.New("no key") })
		wantCode(t, err, parley.CodeInternal)

		// Concurrent appends form one chain 1…N.
		const workers, each = 8, 10
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					rec := &parley.AuditRecord{
						Time:    t0.Add(time.Duration(w*each+i) * time.Millisecond),
						ActorID: parley.UserID(fmt.Sprintf("u_%d", w)), ActorName: "worker",
						Action: "chat.send", Target: fmt.Sprint(i), Result: parley.ResultSuccess,
					}
					if err := db.AppendAudit(ctx, rec, testLink); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()

		all, err := db.ListAudit(ctx, 0, 1000)
		must(t, err)
		if len(all) != 1+workers*each {
			t.Fatalf("%d records, want %d", len(all), 1+workers*each)
		}
		var prevHash []byte
		for i, r := range all {
			if r.Seq != int64(i+1) {
				t.Fatalf("record %d has Seq %d", i, r.Seq)
			}
			if !bytes.Equal(r.PrevHash, prevHash) {
				t.Fatalf("record %d: PrevHash does not match the previous Hash", r.Seq)
			}
			// The stored record hashes to its stored Hash: every field,
			// the time to the nanosecond and in UTC, round-trips.
			if !bytes.Equal(testHash(r.PrevHash, r), r.Hash) {
				t.Fatalf("record %d: stored fields do not hash to the stored Hash", r.Seq)
			}
			prevHash = r.Hash
		}
		if all[0].Reason != "bad password" || all[0].SourceIP != "192.0.2.7" || !all[0].Time.Equal(t0) {
			t.Errorf("first record read back as %+v", all[0])
		}

		page, err := db.ListAudit(ctx, 10, 5)
		must(t, err)
		if len(page) != 5 || page[0].Seq != 11 || page[4].Seq != 15 {
			t.Errorf("ListAudit(10, 5) = seqs %d…", page[0].Seq)
		}
	})
}
