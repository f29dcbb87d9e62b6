package crypt

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/parleyhq/parley"
)

// Domain-separation labels. Each starts the AAD of one kind of sealed data,
// so a ciphertext of one kind can never be opened as another.
const (
	labelMessage = "parley/msg/v1"
	labelDataKey = "parley/dek/v1"
	labelSecret  = "parley/secret/v1" // #nosec G101 -- a domain-separation label, not a credential
)

// errMessageUnbound refuses to seal a message whose identity is incomplete:
// the AAD would bind nothing useful.
var errMessageUnbound = errors.New("crypt: message needs a conversation, an ID and a sequence number")

// MessageAAD is the additional authenticated data of a message body (D2,
// DESIGN.md §3): the label, conversation ID, message ID and sequence number,
// each length-prefixed so that no two distinct triples encode alike. A body
// copied to another row, conversation or sequence number fails to open.
//
//	u32be(len) ‖ "parley/msg/v1" ‖ u32be(len) ‖ conv ‖ u32be(len) ‖ id ‖ u32be(8) ‖ i64be(seq)
func MessageAAD(conv parley.ConversationID, id parley.MessageID, seq int64) []byte {
	b := make([]byte, 0, 4+len(labelMessage)+4+len(conv)+4+len(id)+4+8)
	b = appendString(b, labelMessage)
	b = appendString(b, string(conv))
	b = appendString(b, string(id))
	return appendInt64(b, seq)
}

// SealMessage seals body into m.Sealed under the conversation's data key,
// bound to m's conversation, ID and sequence number. m.KeyEpoch is the
// caller's: it must name the epoch of dek. The store calls this after
// assigning m.Seq (parley.SealFunc).
func SealMessage(dek *Key, m *parley.Message, body []byte) error {
	if m == nil || m.ConversationID == "" || m.ID == "" || m.Seq < 1 {
		return errMessageUnbound
	}
	sealed, err := Seal(dek, body, MessageAAD(m.ConversationID, m.ID, m.Seq))
	if err != nil {
		return err
	}
	m.Sealed = sealed
	return nil
}

// OpenMessage returns the plaintext body of m, sealed by SealMessage.
func OpenMessage(dek *Key, m *parley.Message) ([]byte, error) {
	if m == nil {
		return nil, errMessageUnbound
	}
	return Open(dek, m.Sealed, MessageAAD(m.ConversationID, m.ID, m.Seq))
}

// dataKeyAAD binds a wrapped data key to its conversation and epoch, so a
// wrapped key moved to another conversation or epoch fails to unwrap.
func dataKeyAAD(conv parley.ConversationID, epoch int) []byte {
	b := make([]byte, 0, 4+len(labelDataKey)+4+len(conv)+4+8)
	b = appendString(b, labelDataKey)
	b = appendString(b, string(conv))
	return appendInt64(b, int64(epoch))
}

// appendString appends a 32-bit big-endian length and s.
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, lenPrefix(len(s)))
	return append(b, s...)
}

// appendBytes appends a 32-bit big-endian length and p.
func appendBytes(b, p []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, lenPrefix(len(p)))
	return append(b, p...)
}

// lenPrefix returns n as a 32-bit length prefix. The fields are labels,
// IDs and caller AAD, far below 4 GiB; a longer one would wrap and let two
// distinct encodings collide, so it is a programming error, not input.
func lenPrefix(n int) uint32 {
	if n < 0 || n > math.MaxUint32 {
		panic("crypt: length-prefixed field longer than 4 GiB")
	}
	return uint32(n)
}

// appendInt64 appends the length 8 and v in big-endian two's complement.
func appendInt64(b []byte, v int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(v)) // #nosec G115 -- two's complement bit pattern is the specified encoding, not a value conversion
}
