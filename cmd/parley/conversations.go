package main

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/wire"
)

func runConversations(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("conversations")
	asJSON := fs.Bool("json", false, "print JSON")
	if rest, err := parseArgs(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	convs, err := c.Conversations(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, wire.ConversationList{Conversations: nonNil(convs)})
	}
	w := table(e.stdout)
	fmt.Fprintln(w, "ID\tTYPE\tTITLE\tMEMBERS\tLAST SEQ")
	for _, cv := range convs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\n", cleanLine(cv.ConversationID), cleanLine(cv.Type), orDash(cv.Title), len(cv.MemberIDs), cv.LastSeq)
	}
	return w.Flush()
}

// newConversationArgs are the parsed flags of "parley new-conversation".
type newConversationArgs struct {
	typ, title string
	members    []string
}

func parseNewConversationArgs(e *env, args []string) (*newConversationArgs, error) {
	var a newConversationArgs
	var members string
	fs := e.newFlags("new-conversation")
	fs.StringVar(&a.typ, "type", "group", "group or direct")
	fs.StringVar(&a.title, "title", "", "title (groups)")
	fs.StringVar(&members, "members", "", "comma-separated user IDs of the other members")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("unexpected argument %q", rest[0])
	}
	a.members = splitList(members)
	switch {
	case a.typ != "group" && a.typ != "direct":
		return nil, usagef("--type must be group or direct")
	case len(a.members) == 0:
		return nil, usagef("--members is required")
	case a.typ == "direct" && len(a.members) != 1:
		return nil, usagef("a direct conversation has exactly one other member")
	}
	return &a, nil
}

func runNewConversation(ctx context.Context, e *env, args []string) error {
	a, err := parseNewConversationArgs(e, args)
	if err != nil {
		return err
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	id, err := c.CreateConversation(ctx, a.typ, a.members, a.title)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, cleanLine(id))
	return nil
}

// historyArgs are the parsed arguments of "parley history".
type historyArgs struct {
	conv          string
	after, before int64
	limit         int
	json          bool
}

func parseHistoryArgs(e *env, args []string) (*historyArgs, error) {
	var a historyArgs
	fs := e.newFlags("history")
	fs.Int64Var(&a.after, "after", 0, "show messages after this seq")
	fs.Int64Var(&a.before, "before", 0, "show messages before this seq instead")
	fs.IntVar(&a.limit, "limit", 50, "at most this many messages")
	fs.BoolVar(&a.json, "json", false, "print JSON")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case len(rest) != 1:
		return nil, usagef("expected one conversation ID")
	case a.after < 0 || a.before < 0 || a.limit <= 0:
		return nil, usagef("--after, --before must be ≥ 0 and --limit > 0")
	case a.after > 0 && a.before > 0:
		return nil, usagef("--after and --before exclude each other")
	}
	a.conv = rest[0]
	return &a, nil
}

func runHistory(ctx context.Context, e *env, args []string) error {
	a, err := parseHistoryArgs(e, args)
	if err != nil {
		return err
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	var msgs []wire.Message
	if a.before > 0 {
		msgs, err = c.HistoryBefore(ctx, a.conv, a.before, a.limit)
	} else {
		msgs, err = c.History(ctx, a.conv, a.after, a.limit)
	}
	if err != nil {
		return err
	}
	if a.json {
		return printJSON(e.stdout, wire.MessageList{Messages: nonNil(msgs)})
	}
	names := newNames(c)
	for _, m := range msgs {
		fmt.Fprintf(e.stdout, "#%d %s %s: %s\n", m.Seq, fmtTime(m.SentAt), names.name(ctx, m.SenderID), indentBody(m.Body))
	}
	return nil
}

// names resolves user IDs to user names for display, asking the directory
// once. Failure (the directory may be restricted) falls back to IDs.
type names struct {
	c      *client.Client
	byID   map[string]string
	loaded bool
}

func newNames(c *client.Client) *names { return &names{c: c, byID: map[string]string{}} }

func (n *names) name(ctx context.Context, id string) string {
	if !n.loaded {
		n.loaded = true
		if users, err := n.c.Users(ctx, ""); err == nil {
			for _, u := range users {
				n.byID[u.UserID] = u.Username
			}
		}
	}
	if s, ok := n.byID[id]; ok && s != "" {
		return cleanLine(s)
	}
	return cleanLine(id)
}

// nonNil makes --json print [] rather than null for an empty list.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
