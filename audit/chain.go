// Package audit keeps the tamper-evident audit trail (L1, L3): every record
// carries the hash of its predecessor and a hash of its own content, so that
// changing, deleting, inserting or reordering a stored record breaks the
// chain at that point, and an auditor can check the whole trail offline.
//
// The encoding hashed is specified in docs/audit-chain.md; Link and Verify
// are its reference implementation. Truncating the newest records is not
// visible in the chain itself: signed checkpoints (L3) cover that.
package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crypt"
)

// encodingLabel names version 1 of the canonical encoding. A new encoding
// (another hash under the gm profile of G1, another field) gets a new label.
const encodingLabel = "parley/audit/v1"

// HashSize is the size of PrevHash and Hash: SHA-256.
const HashSize = 32

// timeLayout writes the UTC time with exactly six fractional digits, the
// store's precision. A fixed width, unlike Go's RFC3339Nano which trims
// trailing zeros, is trivial to reproduce in any language.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// hashSuite is the suite of encoding v1: SHA-256 (intl), whatever suite the
// deployment seals data with.
var hashSuite = crypt.Intl

// Link is the parley.AuditLink of the audit chain. It sets rec.PrevHash to
// prev.Hash — or, for the very first record (prev == nil), to 32 zero bytes,
// the genesis value — normalises rec.Time to UTC truncated to microseconds
// (what the store keeps, so the stored record re-hashes identically), and
// sets rec.Hash. It refuses a record that does not directly follow prev.
func Link(prev, rec *parley.AuditRecord) error {
	if rec == nil {
		return errors.New("audit: nil record")
	}
	if prev == nil {
		if rec.Seq < 1 {
			return fmt.Errorf("audit: first record has seq %d, want ≥ 1", rec.Seq)
		}
		rec.PrevHash = make([]byte, HashSize)
	} else {
		if len(prev.Hash) != HashSize {
			return fmt.Errorf("audit: record %d has no valid hash", prev.Seq)
		}
		if rec.Seq != prev.Seq+1 {
			return fmt.Errorf("audit: record seq %d does not follow %d", rec.Seq, prev.Seq)
		}
		rec.PrevHash = bytes.Clone(prev.Hash)
	}
	if rec.Time.IsZero() {
		return errors.New("audit: record without time")
	}
	rec.Time = rec.Time.UTC().Truncate(time.Microsecond)
	h, err := recordHash(rec)
	if err != nil {
		return err
	}
	rec.Hash = h
	return nil
}

// ChainError tells where and why a chain fails to verify.
type ChainError struct {
	Seq    int64
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit: chain broken at seq %d: %s", e.Seq, e.Reason)
}

// Verify checks consecutive records. prevHash is the Hash of the record just
// before records[0] (from a trusted checkpoint, or a previous page); nil or
// empty means records[0] is the first record ever, whose PrevHash must be
// the genesis value. Verify returns a *ChainError for the first record whose
// seq does not follow its predecessor's, whose PrevHash is not the
// predecessor's Hash, or whose Hash does not match its content.
func Verify(records []*parley.AuditRecord, prevHash []byte) error {
	want := prevHash
	if len(want) == 0 {
		want = make([]byte, HashSize)
	}
	for i, rec := range records {
		if rec == nil {
			return &ChainError{Seq: expectedSeq(records, i), Reason: "missing record"}
		}
		if i > 0 && rec.Seq != records[i-1].Seq+1 {
			return &ChainError{Seq: rec.Seq, Reason: fmt.Sprintf("seq does not follow %d (record deleted, inserted or reordered)", records[i-1].Seq)}
		}
		if !bytes.Equal(rec.PrevHash, want) {
			return &ChainError{Seq: rec.Seq, Reason: "prev_hash is not the previous record's hash"}
		}
		h, err := recordHash(rec)
		if err != nil {
			return &ChainError{Seq: rec.Seq, Reason: err.Error()}
		}
		if !bytes.Equal(h, rec.Hash) {
			return &ChainError{Seq: rec.Seq, Reason: "hash does not match the record's content"}
		}
		want = rec.Hash
	}
	return nil
}

func expectedSeq(records []*parley.AuditRecord, i int) int64 {
	if i > 0 && records[i-1] != nil {
		return records[i-1].Seq + 1
	}
	return 0
}

// recordHash is SHA-256 over the canonical encoding of rec.
func recordHash(rec *parley.AuditRecord) ([]byte, error) {
	enc, err := encode(rec)
	if err != nil {
		return nil, err
	}
	return hashSuite.Sum(enc), nil
}

// encode is the canonical encoding v1 (docs/audit-chain.md): the label and
// then every field, each as a 4-byte big-endian length and its bytes.
// Strings are taken byte for byte; seq is 8 bytes big-endian two's
// complement; time is UTC with exactly six fractional digits.
func encode(rec *parley.AuditRecord) ([]byte, error) {
	t := rec.Time.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return nil, errors.New("time outside years 0001-9999")
	}
	if len(rec.PrevHash) != HashSize {
		return nil, errors.New("prev_hash is not 32 bytes")
	}
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], uint64(rec.Seq)) // #nosec G115 -- two's complement bit pattern is the specified encoding (docs/audit-chain.md)
	fields := [...][]byte{
		[]byte(encodingLabel),
		seq[:],
		[]byte(t.Format(timeLayout)),
		[]byte(rec.ActorID),
		[]byte(rec.ActorName),
		[]byte(rec.Action),
		[]byte(rec.Target),
		[]byte(rec.SourceIP),
		[]byte(rec.Result),
		[]byte(rec.Reason),
		rec.PrevHash,
	}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		// A field over 4 GiB would wrap its length prefix and let two
		// records encode alike; refuse it rather than hash it.
		fl := len(f)
		if fl > math.MaxUint32 {
			return nil, errors.New("field longer than 4 GiB")
		}
		b = binary.BigEndian.AppendUint32(b, uint32(fl))
		b = append(b, f...)
	}
	return b, nil
}
