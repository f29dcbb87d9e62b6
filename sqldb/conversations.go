package sqldb

import (
	"context"
	"database/sql"

	"github.com/parleyhq/parley"
)

const conversationColumns = `c.id, c.type, c.title, COALESCE(c.created_by, ''), c.created_at, c.last_seq,
	COALESCE(c.direct_key, ''), c.key_epoch`

func scanConversation(row interface{ Scan(...any) error }) (*parley.Conversation, error) {
	var c parley.Conversation
	var createdAt int64
	if err := row.Scan(&c.ID, &c.Type, &c.Title, &c.CreatedBy, &createdAt, &c.LastSeq, &c.DirectKey, &c.KeyEpoch); err != nil {
		return nil, err
	}
	c.CreatedAt = tm(createdAt)
	return &c, nil
}

// CreateConversation inserts c, its members and (if key is not nil) its
// first data key (stored under c.ID, whatever key.ConversationID says) in one
// transaction, so that no conversation exists without
// its members or its key. A second direct conversation for the same pair
// (same DirectKey) is CodeConflict; an unknown member is CodeNotFound.
func (db *DB) CreateConversation(ctx context.Context, c *parley.Conversation, key *parley.ConversationKey) error {
	return db.writeTx(ctx, "sqldb.CreateConversation", func(t *tx) error {
		if _, err := t.exec(`INSERT INTO conversations (id, type, title, created_by, created_at, last_seq,
			last_activity, direct_key, key_epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			string(c.ID), string(c.Type), c.Title, nullString(c.CreatedBy), ts(c.CreatedAt), c.LastSeq,
			ts(c.CreatedAt), nullString(c.DirectKey), c.KeyEpoch); err != nil {
			return err
		}
		for i, m := range c.MemberIDs {
			if _, err := t.exec(`INSERT INTO conversation_members (conversation_id, user_id, ordinal) VALUES (?, ?, ?)`,
				string(c.ID), string(m), i); err != nil {
				return err
			}
		}
		if key == nil {
			return nil
		}
		_, err := t.exec(`INSERT INTO conversation_keys (conversation_id, epoch, kek_id, wrapped, created_at) VALUES (?, ?, ?, ?, ?)`,
			string(c.ID), key.Epoch, key.KEKID, key.Wrapped, ts(key.CreatedAt))
		return err
	})
}

// ConversationByID returns the conversation with its members.
func (db *DB) ConversationByID(ctx context.Context, id parley.ConversationID) (*parley.Conversation, error) {
	return db.conversationWhere(ctx, "sqldb.ConversationByID", `c.id = ?`, string(id))
}

// DirectConversation finds the direct conversation with this DirectKey.
func (db *DB) DirectConversation(ctx context.Context, directKey string) (*parley.Conversation, error) {
	return db.conversationWhere(ctx, "sqldb.DirectConversation", `c.direct_key = ?`, directKey)
}

// conversationWhere loads one conversation by a constant condition.
func (db *DB) conversationWhere(ctx context.Context, op, cond string, arg any) (*parley.Conversation, error) {
	s, err := db.stmt(ctx, db.reader, `SELECT `+conversationColumns+` FROM conversations c WHERE `+cond)
	if err != nil {
		return nil, parley.Internal(op, err)
	}
	c, err := scanConversation(s.QueryRowContext(ctx, arg))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "conversation")
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	rows, err := db.query(ctx, `SELECT user_id FROM conversation_members WHERE conversation_id = ? ORDER BY ordinal`, string(c.ID))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m parley.UserID
		if err := rows.Scan(&m); err != nil {
			return nil, wrap(op, err)
		}
		c.MemberIDs = append(c.MemberIDs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return c, nil
}

// ConversationsForUser lists the user's conversations, most recently active
// first, with their members: two queries, whatever the count.
func (db *DB) ConversationsForUser(ctx context.Context, user parley.UserID) ([]*parley.Conversation, error) {
	const op = "sqldb.ConversationsForUser"
	rows, err := db.query(ctx, `SELECT `+conversationColumns+` FROM conversations c
		JOIN conversation_members m ON m.conversation_id = c.id
		WHERE m.user_id = ? ORDER BY c.last_activity DESC, c.id`, string(user))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.Conversation
	byID := make(map[parley.ConversationID]*parley.Conversation)
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, c)
		byID[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	rows.Close()
	if len(out) == 0 {
		return nil, nil
	}
	mrows, err := db.query(ctx, `SELECT conversation_id, user_id FROM conversation_members
		WHERE conversation_id IN (SELECT conversation_id FROM conversation_members WHERE user_id = ?)
		ORDER BY conversation_id, ordinal`, string(user))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var cid parley.ConversationID
		var m parley.UserID
		if err := mrows.Scan(&cid, &m); err != nil {
			return nil, wrap(op, err)
		}
		if c := byID[cid]; c != nil {
			c.MemberIDs = append(c.MemberIDs, m)
		}
	}
	if err := mrows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// ConversationKey returns the wrapped data key of one epoch.
func (db *DB) ConversationKey(ctx context.Context, id parley.ConversationID, epoch int) (*parley.ConversationKey, error) {
	const op = "sqldb.ConversationKey"
	k := parley.ConversationKey{ConversationID: id, Epoch: epoch}
	var createdAt int64
	err := db.get(ctx, `SELECT kek_id, wrapped, created_at FROM conversation_keys WHERE conversation_id = ? AND epoch = ?`,
		[]any{string(id), epoch}, &k.KEKID, &k.Wrapped, &createdAt)
	if err == sql.ErrNoRows {
		return nil, notFound(op, "conversation key")
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	k.CreatedAt = tm(createdAt)
	return &k, nil
}

// SetReadMarker raises the user's read marker to seq. The comparison is in
// the statement, so concurrent updates from several devices or nodes can
// never move a marker backwards.
func (db *DB) SetReadMarker(ctx context.Context, id parley.ConversationID, user parley.UserID, seq int64) error {
	_, err := db.exec(ctx, `INSERT INTO read_markers (conversation_id, user_id, seq) VALUES (?, ?, ?)
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = excluded.seq
		WHERE read_markers.seq < excluded.seq`, string(id), string(user), seq)
	return wrap("sqldb.SetReadMarker", err)
}

// ReadMarkers returns every member's read marker of the conversation.
func (db *DB) ReadMarkers(ctx context.Context, id parley.ConversationID) (map[parley.UserID]int64, error) {
	const op = "sqldb.ReadMarkers"
	rows, err := db.query(ctx, `SELECT user_id, seq FROM read_markers WHERE conversation_id = ?`, string(id))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	out := make(map[parley.UserID]int64)
	for rows.Next() {
		var u parley.UserID
		var seq int64
		if err := rows.Scan(&u, &seq); err != nil {
			return nil, wrap(op, err)
		}
		out[u] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}
