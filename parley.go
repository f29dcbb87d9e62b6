// Package parley is the domain of the Parley enterprise messaging server:
// the nouns (users, departments, conversations, messages, sessions, audit
// records), their typed identifiers, the one error type, the actor on whose
// behalf an operation runs, and the interfaces through which services reach
// storage, keys and the event broker.
//
// It imports the standard library only. Services (auth, chat, audit, …)
// depend on it; adapters (sqldb, inmem, kms/keyring, …) implement its
// interfaces; cmd/parleyd wires them together. See docs/architecture.md.
package parley

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// Typed identifiers. IDs are opaque strings on the wire (API-CORE.md); the
// types keep a user ID from being passed where a conversation ID is due.
type (
	UserID         string
	DepartmentID   string
	ConversationID string
	MessageID      string
)

// ID prefixes make logs and audit records readable without revealing anything:
// the rest of an ID is 128 random bits.
const (
	prefixUser         = "u_"
	prefixDepartment   = "d_"
	prefixConversation = "c_"
	prefixMessage      = "m_"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func randomID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// NewUserID returns a fresh random user ID.
func NewUserID() UserID { return UserID(randomID(prefixUser)) }

// NewDepartmentID returns a fresh random department ID.
func NewDepartmentID() DepartmentID { return DepartmentID(randomID(prefixDepartment)) }

// NewConversationID returns a fresh random conversation ID.
func NewConversationID() ConversationID { return ConversationID(randomID(prefixConversation)) }

// NewMessageID returns a fresh message ID: 48 bits of Unix milliseconds then
// 80 random bits, in an order-preserving base32. Time-ordered IDs are
// inserted at the end of the primary-key index instead of at random places,
// which keeps the group commit fast as the table grows. The time they show
// is the sent_at every member sees anyway.
func NewMessageID() MessageID {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return MessageID(prefixMessage + strings.ToLower(sortableEncoding.EncodeToString(b[:])))
}

// sortableEncoding is base32 with the "extended hex" alphabet (0-9, A-V),
// whose byte order is its numeric order.
var sortableEncoding = base32.HexEncoding.WithPadding(base32.NoPadding)

// Clock returns the current time. Services take one so that expiry, idle
// timeouts and lockouts can be tested without sleeping.
type Clock func() time.Time

// SystemClock is the real clock, in UTC with monotonic reading stripped so
// that stored and compared times behave the same.
func SystemClock() time.Time { return time.Now().UTC().Round(0) }
