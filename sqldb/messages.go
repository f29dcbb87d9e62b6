package sqldb

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// msgKey is what makes a send idempotent: a retry of the same client message
// by the same sender in the same conversation.
type msgKey struct {
	conv   parley.ConversationID
	sender parley.UserID
	client string
}

// convState is one conversation's sequence within a batch.
type convState struct {
	lastSeq  int64 // the last seq assigned so far
	appended bool  // a message of this batch was assigned a seq
	activity int64 // newest activity (ts): creation or newest message
}

// AppendMessages is the group commit (DESIGN.md §3): the whole batch is one
// transaction, so one fsync makes every message of it durable, and when it
// returns nil every message without Err and not Duplicate is stored. A
// message's seq is assigned here, in the transaction that stores it, so that
// sequence numbers have no gaps: one that fails to seal does not take one.
//
// The work per batch is a fixed handful of statements whatever its size:
// one SELECT (… FOR UPDATE on PostgreSQL) per 256 conversations, one
// idempotency lookup per 256 client message IDs, multi-row INSERTs of up to
// 64 messages, and one UPDATE per conversation.
//
// If it returns an error nothing was stored (unless the commit itself failed
// ambiguously, e.g. the connection dropped during COMMIT) and the items' Msg,
// Duplicate and Err are unspecified; resending the batch is safe either way,
// because client_msg_id makes it idempotent.
func (db *DB) AppendMessages(ctx context.Context, batch []*parley.PendingMessage, seal parley.SealFunc) error {
	const op = "sqldb.AppendMessages"
	for _, p := range batch {
		p.Duplicate, p.Err = false, nil
	}
	if len(batch) == 0 {
		return nil
	}
	return db.writeTx(ctx, op, func(t *tx) error {
		convs, err := lockConversations(t, batch)
		if err != nil {
			return err
		}
		existing, err := findExisting(t, batch)
		if err != nil {
			return err
		}
		seen := make(map[msgKey]*parley.Message)
		fresh := make([]*parley.Message, 0, len(batch))
		for _, p := range batch {
			m := &p.Msg
			k := msgKey{m.ConversationID, m.SenderID, m.ClientMsgID}
			if m.ClientMsgID != "" {
				orig := seen[k]
				if orig == nil {
					orig = existing[k]
				}
				if orig != nil {
					p.Msg, p.Duplicate = *orig, true
					continue
				}
			}
			cs := convs[m.ConversationID]
			if cs == nil {
				p.Err = notFound(op, "conversation")
				continue
			}
			// The seq is set before sealing: the AAD binds it (D2).
			m.Seq = cs.lastSeq + 1
			if err := seal(m, p.Body); err != nil {
				m.Seq, p.Err = 0, sealError(op, err)
				continue
			}
			if len(m.Sealed) == 0 {
				m.Seq, p.Err = 0, parley.Internal(op, errors.New("seal produced no ciphertext"))
				continue
			}
			cs.lastSeq, cs.appended = m.Seq, true
			cs.activity = max(cs.activity, ts(m.SentAt))
			fresh = append(fresh, m)
			if m.ClientMsgID != "" {
				seen[k] = m
			}
		}
		if err := insertMessages(t, fresh); err != nil {
			return err
		}
		for id, cs := range convs {
			if !cs.appended {
				continue
			}
			if _, err := t.exec(`UPDATE conversations SET last_seq = ?, last_activity = ? WHERE id = ?`,
				cs.lastSeq, cs.activity, string(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// sealError keeps a typed error from the SealFunc (e.g. unavailable keys)
// and hides anything else as internal.
func sealError(op string, err error) error {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	return parley.Internal(op, err)
}

// lockConversations reads last_seq of every conversation in the batch. On
// PostgreSQL the rows stay locked until commit (FOR UPDATE, dialect.go), and
// they are locked in id order, so that two nodes appending to overlapping
// conversations wait for each other instead of deadlocking. Conversations
// that do not exist are absent from the map.
func lockConversations(t *tx, batch []*parley.PendingMessage) (map[parley.ConversationID]*convState, error) {
	ids := make([]any, 0, 8)
	seen := make(map[parley.ConversationID]bool)
	for _, p := range batch {
		if id := p.Msg.ConversationID; !seen[id] {
			seen[id] = true
			ids = append(ids, string(id))
		}
	}
	slices.SortFunc(ids, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	convs := make(map[parley.ConversationID]*convState, len(ids))
	err := forChunks(ids, func(chunk []any) error {
		list, args := inList(chunk)
		rows, err := t.query(`SELECT id, last_seq, last_activity FROM conversations WHERE id IN (`+list+`) ORDER BY id`+t.db.d.forUpdate, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id parley.ConversationID
			var cs convState
			if err := rows.Scan(&id, &cs.lastSeq, &cs.activity); err != nil {
				return err
			}
			convs[id] = &cs
		}
		return rows.Err()
	})
	return convs, err
}

// dedupChunk is the most (conversation, sender, client_msg_id) triples one
// idempotency lookup asks for.
const dedupChunk = 256

// findExisting returns the stored messages that the batch's client message
// IDs would duplicate.
func findExisting(t *tx, batch []*parley.PendingMessage) (map[msgKey]*parley.Message, error) {
	var keys []msgKey
	seen := make(map[msgKey]bool)
	for _, p := range batch {
		k := msgKey{p.Msg.ConversationID, p.Msg.SenderID, p.Msg.ClientMsgID}
		if k.client != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	found := make(map[msgKey]*parley.Message)
	for len(keys) > 0 {
		n := min(len(keys), dedupChunk)
		size := 1
		for size < n {
			size *= 4 // 1, 4, 16, 64, 256 keys: few distinct statements
		}
		args := make([]any, 0, 3*size)
		for i := range size {
			k := keys[min(i, n-1)] // pad by repeating the last key
			args = append(args, string(k.conv), string(k.sender), k.client)
		}
		keys = keys[n:]
		// A join with a VALUES list (columns column1…3 in both dialects)
		// is one index lookup per key on both; an OR chain made PostgreSQL
		// plan a bitmap OR on every execution.
		rows, err := t.query(`SELECT `+messageColumnsOf("m")+` FROM (VALUES `+rowPlaceholders(size, 3)+`) AS k
			JOIN messages m ON m.conversation_id = k.column1 AND m.sender_id = k.column2 AND m.client_msg_id = k.column3`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			found[msgKey{m.ConversationID, m.SenderID, m.ClientMsgID}] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// insertMessages stores msgs with multi-row INSERTs of 64, 32, … 1 rows, so
// that a batch of any size takes few statements from a set of seven.
func insertMessages(t *tx, msgs []*parley.Message) error {
	const width = 8
	for len(msgs) > 0 {
		n := 64
		for n > len(msgs) {
			n /= 2
		}
		args := make([]any, 0, n*width)
		for _, m := range msgs[:n] {
			args = append(args, string(m.ID), string(m.ConversationID), m.Seq, string(m.SenderID),
				nullString(m.ClientMsgID), ts(m.SentAt), m.KeyEpoch, m.Sealed)
		}
		if _, err := t.exec(`INSERT INTO messages (id, conversation_id, seq, sender_id, client_msg_id, sent_at, key_epoch, sealed)
			VALUES `+rowPlaceholders(n, width), args...); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

const messageColumns = `id, conversation_id, seq, sender_id, COALESCE(client_msg_id, ''), sent_at, key_epoch, sealed,
	recalled_at, recalled_by`

// messageColumnsOf is messageColumns qualified by a table alias.
func messageColumnsOf(alias string) string {
	a := alias + "."
	return a + `id, ` + a + `conversation_id, ` + a + `seq, ` + a + `sender_id, COALESCE(` + a + `client_msg_id, ''), ` +
		a + `sent_at, ` + a + `key_epoch, ` + a + `sealed, ` + a + `recalled_at, ` + a + `recalled_by`
}

func scanMessage(row interface{ Scan(...any) error }) (*parley.Message, error) {
	var m parley.Message
	var sentAt, recalledAt int64
	if err := row.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.SenderID, &m.ClientMsgID, &sentAt, &m.KeyEpoch, &m.Sealed,
		&recalledAt, &m.RecalledBy); err != nil {
		return nil, err
	}
	m.SentAt, m.RecalledAt = tm(sentAt), tm(recalledAt)
	return &m, nil
}

// MessagesAfter returns up to limit sealed messages with seq > afterSeq,
// ascending (catch-up sync, M2).
func (db *DB) MessagesAfter(ctx context.Context, id parley.ConversationID, afterSeq int64, limit int) ([]*parley.Message, error) {
	msgs, err := db.messages(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?`, string(id), afterSeq, limit)
	return msgs, wrap("sqldb.MessagesAfter", err)
}

// MessagesBefore returns up to limit sealed messages with seq < beforeSeq:
// the newest page below the cursor, ascending (history, M3).
func (db *DB) MessagesBefore(ctx context.Context, id parley.ConversationID, beforeSeq int64, limit int) ([]*parley.Message, error) {
	msgs, err := db.messages(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, string(id), beforeSeq, limit)
	slices.Reverse(msgs)
	return msgs, wrap("sqldb.MessagesBefore", err)
}

func (db *DB) messages(ctx context.Context, q string, args ...any) ([]*parley.Message, error) {
	if limit := args[len(args)-1].(int); limit <= 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*parley.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// RecallMessage destroys the sealed body of one message (Z3 recall): the
// column is overwritten with an empty value in the same statement that
// marks the row recalled, so no reader ever sees a recalled row with its
// ciphertext. The row stays, so that sequence numbers keep no gaps and
// members' clients can show "recalled". Older copies of the ciphertext
// may survive until the database reuses the space (SQLite free pages and
// WAL, PostgreSQL dead tuples until VACUUM) and in backups; they are
// still sealed under the conversation's data key (docs/operator-guide.md).
func (db *DB) RecallMessage(ctx context.Context, id parley.ConversationID, seq int64, by parley.UserID, at time.Time) (*parley.Message, error) {
	const op = "sqldb.RecallMessage"
	if at.IsZero() {
		return nil, parley.Internal(op, errors.New("recall without a time")) // 0 means "not recalled"
	}
	m, err := db.recall(ctx, id, seq, by, at)
	if err != nil {
		return nil, wrap(op, err)
	}
	if m != nil {
		return m, nil
	}
	// No row changed: there is no such message, or it was recalled before.
	var n int
	if err := db.get(ctx, `SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND seq = ?`,
		[]any{string(id), seq}, &n); err != nil {
		return nil, wrap(op, err)
	}
	if n == 0 {
		return nil, notFound(op, "message")
	}
	return nil, &parley.Error{Code: parley.CodeConflict, Message: "message already recalled", Op: op}
}

// recall returns the recalled message, or nil if no row changed.
func (db *DB) recall(ctx context.Context, id parley.ConversationID, seq int64, by parley.UserID, at time.Time) (*parley.Message, error) {
	rows, err := db.writeQuery(ctx, `UPDATE messages SET sealed = ?, recalled_at = ?, recalled_by = ?
		WHERE conversation_id = ? AND seq = ? AND recalled_at = 0 RETURNING `+messageColumns,
		[]byte{}, ts(at), string(by), string(id), seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	m, err := scanMessage(rows)
	if err != nil {
		return nil, err
	}
	return m, rows.Close()
}
