package main

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/wire"
)

func runSessions(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("sessions")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	var revoke string
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && rest[0] == "revoke":
		revoke = rest[1]
	default:
		return usagef("expected 'parley sessions' or 'parley sessions revoke ID'")
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	if revoke != "" {
		if err := c.RevokeSession(ctx, revoke); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "Session revoked.")
		return nil
	}
	sessions, err := c.Sessions(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, wire.SessionList{Sessions: nonNil(sessions)})
	}
	w := table(e.stdout)
	fmt.Fprintln(w, "ID\t\tCREATED\tLAST ACTIVE\tEXPIRES\tIP\tCLIENT")
	for _, s := range sessions {
		mark := ""
		if s.Current {
			mark = "*"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cleanLine(s.SessionID), mark, fmtTime(s.CreatedAt),
			fmtTime(s.LastActiveAt), fmtTime(s.ExpiresAt), orDash(s.SourceIP), orDash(s.UserAgent))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "(* this session)")
	return nil
}
