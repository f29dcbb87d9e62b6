package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/parleyhq/parley"
)

const supervisionColumns = `id, supervisor_id, department_id, reason, ticket_id, status, created_at, expires_at,
	approved_by, approved_at, ended_at`

func scanSupervision(row interface{ Scan(...any) error }) (*parley.SupervisionGrant, error) {
	var (
		g                                         parley.SupervisionGrant
		createdAt, expiresAt, approvedAt, endedAt int64
	)
	if err := row.Scan(&g.ID, &g.SupervisorID, &g.DepartmentID, &g.Reason, &g.TicketID, &g.Status,
		&createdAt, &expiresAt, &g.ApprovedBy, &approvedAt, &endedAt); err != nil {
		return nil, err
	}
	g.CreatedAt, g.ExpiresAt, g.ApprovedAt, g.EndedAt = tm(createdAt), tm(expiresAt), tm(approvedAt), tm(endedAt)
	return &g, nil
}

// CreateSupervision inserts a grant; an unknown supervisor is CodeNotFound.
func (db *DB) CreateSupervision(ctx context.Context, g *parley.SupervisionGrant) error {
	_, err := db.exec(ctx, `INSERT INTO supervision_grants (`+supervisionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(g.ID), string(g.SupervisorID), string(g.DepartmentID), g.Reason, g.TicketID, string(g.Status),
		ts(g.CreatedAt), ts(g.ExpiresAt), string(g.ApprovedBy), ts(g.ApprovedAt), ts(g.EndedAt))
	return wrap("sqldb.CreateSupervision", err)
}

// SupervisionByID returns one grant.
func (db *DB) SupervisionByID(ctx context.Context, id parley.SupervisionID) (*parley.SupervisionGrant, error) {
	const op = "sqldb.SupervisionByID"
	s, err := db.stmt(ctx, db.reader, `SELECT `+supervisionColumns+` FROM supervision_grants WHERE id = ?`)
	if err != nil {
		return nil, wrap(op, err)
	}
	g, err := scanSupervision(s.QueryRowContext(ctx, string(id)))
	if err == sql.ErrNoRows {
		return nil, notFound(op, "supervision")
	}
	return g, wrap(op, err)
}

// SupervisionsBySupervisor lists a supervisor's grants, newest first.
func (db *DB) SupervisionsBySupervisor(ctx context.Context, user parley.UserID) ([]*parley.SupervisionGrant, error) {
	return db.supervisions(ctx, "sqldb.SupervisionsBySupervisor", `SELECT `+supervisionColumns+` FROM supervision_grants
		WHERE supervisor_id = ? ORDER BY created_at DESC, id`, string(user))
}

// SupervisionsByStatus lists grants with the stored status, oldest first.
func (db *DB) SupervisionsByStatus(ctx context.Context, status parley.SupervisionStatus) ([]*parley.SupervisionGrant, error) {
	return db.supervisions(ctx, "sqldb.SupervisionsByStatus", `SELECT `+supervisionColumns+` FROM supervision_grants
		WHERE status = ? ORDER BY created_at, id`, string(status))
}

func (db *DB) supervisions(ctx context.Context, op, q string, arg any) ([]*parley.SupervisionGrant, error) {
	rows, err := db.query(ctx, q, arg)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.SupervisionGrant
	for rows.Next() {
		g, err := scanSupervision(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, g)
	}
	return out, wrap(op, rows.Err())
}

// UpdateSupervision stores the grant's decision or end if its stored status
// is still from: the WHERE clause is the compare-and-set, so of two
// approvers, or an approval racing an early end, exactly one wins.
func (db *DB) UpdateSupervision(ctx context.Context, g *parley.SupervisionGrant, from parley.SupervisionStatus) error {
	const op = "sqldb.UpdateSupervision"
	err := db.execOne(ctx, `UPDATE supervision_grants SET status = ?, expires_at = ?, approved_by = ?, approved_at = ?, ended_at = ?
		WHERE id = ? AND status = ?`,
		string(g.Status), ts(g.ExpiresAt), string(g.ApprovedBy), ts(g.ApprovedAt), ts(g.EndedAt), string(g.ID), string(from))
	if err != sql.ErrNoRows {
		return wrap(op, err)
	}
	if _, err := db.SupervisionByID(ctx, g.ID); err != nil {
		return err
	}
	return &parley.Error{Code: parley.CodeConflict, Message: "supervision is no longer " + string(from), Op: op}
}

// subtreeCTE names the departments of the subtree rooted at the first
// argument, read at query time. UNION (not UNION ALL) drops rows already
// seen, so even a cycle in the tree, which the directory refuses to make,
// ends the recursion.
const subtreeCTE = `WITH RECURSIVE subtree (id) AS (
		SELECT id FROM departments WHERE id = ?
		UNION
		SELECT d.id FROM departments d JOIN subtree s ON d.parent_id = s.id)
	`

// ConversationsInSubtree returns conversations with a member in root's
// subtree, by ID after the cursor: the members are found through the
// users' department index, then their conversations through the members'
// user index, so the cost follows the subtree's size, not the database's.
func (db *DB) ConversationsInSubtree(ctx context.Context, root parley.DepartmentID, after parley.ConversationID, limit int) ([]*parley.Conversation, error) {
	const op = "sqldb.ConversationsInSubtree"
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, subtreeCTE+`SELECT `+conversationColumns+` FROM conversations c
		WHERE c.id IN (SELECT m.conversation_id FROM conversation_members m JOIN users u ON u.id = m.user_id
			WHERE u.department_id IN (SELECT id FROM subtree))
		AND c.id > ? ORDER BY c.id LIMIT ?`, string(root), string(after), limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	var out []*parley.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(op, err)
		}
		out = append(out, c)
	}
	if err := rows.Close(); err != nil {
		return nil, wrap(op, err)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, wrap(op, db.loadMembers(ctx, out))
}

// loadMembers fills MemberIDs of convs, one query per IN list (a padded
// list repeats an ID, which IN does not turn into duplicate rows).
func (db *DB) loadMembers(ctx context.Context, convs []*parley.Conversation) error {
	byID := make(map[parley.ConversationID]*parley.Conversation, len(convs))
	ids := make([]any, 0, len(convs))
	for _, c := range convs {
		byID[c.ID] = c
		ids = append(ids, string(c.ID))
	}
	return forChunks(ids, func(chunk []any) error {
		list, args := inList(chunk)
		rows, err := db.query(ctx, `SELECT conversation_id, user_id FROM conversation_members
			WHERE conversation_id IN (`+list+`) ORDER BY conversation_id, ordinal`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var cid parley.ConversationID
			var m parley.UserID
			if err := rows.Scan(&cid, &m); err != nil {
				return err
			}
			if c := byID[cid]; c != nil {
				c.MemberIDs = append(c.MemberIDs, m)
			}
		}
		return rows.Err()
	})
}

// ConversationInSubtree reports whether the conversation has a member in
// root's subtree.
func (db *DB) ConversationInSubtree(ctx context.Context, id parley.ConversationID, root parley.DepartmentID) (bool, error) {
	var n int
	err := db.get(ctx, subtreeCTE+`SELECT COUNT(*) FROM conversation_members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = ? AND u.department_id IN (SELECT id FROM subtree)`,
		[]any{string(root), string(id)}, &n)
	if err != nil {
		return false, wrap("sqldb.ConversationInSubtree", err)
	}
	return n > 0, nil
}

// MuteMember creates or replaces a member's mute in a conversation.
func (db *DB) MuteMember(ctx context.Context, m *parley.ConversationMute) error {
	_, err := db.exec(ctx, `INSERT INTO conversation_mutes (conversation_id, user_id, muted_until, muted_by, grant_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET muted_until = excluded.muted_until,
			muted_by = excluded.muted_by, grant_id = excluded.grant_id, created_at = excluded.created_at`,
		string(m.ConversationID), string(m.UserID), ts(m.Until), string(m.MutedBy), string(m.GrantID), ts(m.CreatedAt))
	return wrap("sqldb.MuteMember", err)
}

// ConversationMutes lists the conversation's mutes lasting beyond now.
func (db *DB) ConversationMutes(ctx context.Context, id parley.ConversationID, now time.Time) ([]*parley.ConversationMute, error) {
	const op = "sqldb.ConversationMutes"
	rows, err := db.query(ctx, `SELECT user_id, muted_until, muted_by, grant_id, created_at FROM conversation_mutes
		WHERE conversation_id = ? AND muted_until > ? ORDER BY user_id`, string(id), ts(now))
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*parley.ConversationMute
	for rows.Next() {
		m := parley.ConversationMute{ConversationID: id}
		var until, created int64
		if err := rows.Scan(&m.UserID, &until, &m.MutedBy, &m.GrantID, &created); err != nil {
			return nil, wrap(op, err)
		}
		m.Until, m.CreatedAt = tm(until), tm(created)
		out = append(out, &m)
	}
	return out, wrap(op, rows.Err())
}
