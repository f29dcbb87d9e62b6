package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/wire"
)

// The account lifecycle (Z8, Z11), for system admins after a step-up:
//
//	parley admin offboard USER [--successor USER] [--reason TEXT] [--json]
//	parley admin reactivate USER [--reason TEXT] [--password-stdin | --no-password]
//	parley admin account USER [--json]
//	parley admin end-date USER DATE|none
//	parley admin service-token create USER --name NAME [--days N] [--json]
//	parley admin service-token list USER [--json]
//	parley admin service-token revoke USER TOKEN-ID
//
// USER is a user ID (u_…) or a username, looked up in the directory.
// DATE is YYYY-MM-DD (the account expires at the start of that day, UTC)
// or an RFC 3339 time.

// lifecycleCommands are the admin subcommands of this file.
var lifecycleCommands = []string{"offboard", "reactivate", "account", "end-date", "service-token"}

const lifecycleUsage = "admin offboard USER [--successor USER] [--reason T] | admin reactivate USER [--password-stdin|--no-password] | " +
	"admin account USER | admin end-date USER DATE|none | admin service-token create|list|revoke USER …"

func runAdminLifecycle(ctx context.Context, e *env, sub string, args []string) error {
	fs := e.newFlags("admin")
	asJSON := fs.Bool("json", false, "print JSON")
	reason := fs.String("reason", "", "why (recorded in the audit trail)")
	successor := fs.String("successor", "", "offboard: who takes over the leaver's groups")
	passwordStdin := fs.Bool("password-stdin", false, "reactivate: read the new password from standard input")
	noPassword := fs.Bool("no-password", false, "reactivate: set no password (service accounts)")
	name := fs.String("name", "", "service-token create: what the token is for")
	days := fs.Int("days", 90, "service-token create: lifetime in days (1-90)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	op := sub
	if sub == "service-token" {
		if len(rest) == 0 {
			return usagef("expected create, list or revoke")
		}
		op, rest = sub+" "+rest[0], rest[1:]
	}
	want := map[string]int{"offboard": 1, "reactivate": 1, "account": 1, "end-date": 2,
		"service-token create": 1, "service-token list": 1, "service-token revoke": 2}
	n, ok := want[op]
	if !ok {
		return usagef("unknown subcommand %q", op)
	}
	if len(rest) != n {
		return usagef("admin %s takes %d argument(s)", op, n)
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	id, err := resolveUser(ctx, c, rest[0])
	if err != nil {
		return err
	}
	switch op {
	case "offboard":
		req := wire.OffboardRequest{Reason: *reason}
		if *successor != "" {
			if req.SuccessorID, err = resolveUser(ctx, c, *successor); err != nil {
				return err
			}
		}
		res, err := c.Offboard(ctx, id, req)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, res)
		}
		printOffboard(e, res)
		return nil
	case "reactivate":
		req := wire.ReactivateRequest{Reason: *reason}
		switch {
		case *noPassword:
		case *passwordStdin:
			req.Password, err = e.line("")
		default:
			req.Password, err = e.newPassword()
		}
		if err != nil {
			return err
		}
		acc, err := c.Reactivate(ctx, id, req)
		if err != nil {
			return err
		}
		return printAccount(e, acc, *asJSON)
	case "account":
		acc, err := c.Account(ctx, id)
		if err != nil {
			return err
		}
		return printAccount(e, acc, *asJSON)
	case "end-date":
		end, err := parseEndDate(rest[1])
		if err != nil {
			return err
		}
		acc, err := c.SetEndDate(ctx, id, end)
		if err != nil {
			return err
		}
		return printAccount(e, acc, *asJSON)
	case "service-token create":
		if *name == "" {
			return usagef("--name is required")
		}
		tok, err := c.CreateServiceToken(ctx, id, wire.CreateServiceTokenRequest{Name: *name, ExpiresInDays: *days})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, tok)
		}
		fmt.Fprintf(e.stdout, "token %s expires %s; the secret is shown once:\n%s\n",
			cleanLine(tok.TokenID), fmtTime(tok.ExpiresAt), cleanLine(tok.Token))
		return nil
	case "service-token list":
		list, err := c.ServiceTokens(ctx, id)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, wire.ServiceTokenList{Tokens: list})
		}
		w := table(e.stdout)
		fmt.Fprintln(w, "TOKEN\tNAME\tCREATED\tEXPIRES\tLAST USED")
		for _, t := range list {
			used := "-"
			if t.LastUsedAt != nil {
				used = fmtTime(*t.LastUsedAt)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", cleanLine(t.TokenID), orDash(t.Name), fmtTime(t.CreatedAt), fmtTime(t.ExpiresAt), used)
		}
		return w.Flush()
	default: // service-token revoke
		if err := c.RevokeServiceToken(ctx, id, rest[1]); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "revoked; connections using it were closed")
		return nil
	}
}

// resolveUser takes a user ID as it is and looks a username up in the
// directory (exact match, case-insensitive).
func resolveUser(ctx context.Context, c *client.Client, who string) (string, error) {
	if strings.HasPrefix(who, "u_") {
		return who, nil
	}
	users, err := c.Users(ctx, who)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		if strings.EqualFold(u.Username, who) {
			return u.UserID, nil
		}
	}
	return "", fmt.Errorf("no user named %q in the directory; give the user ID (u_…)", cleanLine(who))
}

// parseEndDate reads YYYY-MM-DD (the start of that day, UTC), an RFC 3339
// time, or "none" (nil: clear).
func parseEndDate(s string) (*time.Time, error) {
	if s == "none" {
		return nil, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, usagef("DATE must be YYYY-MM-DD, an RFC 3339 time or none")
	}
	return &t, nil
}

func printOffboard(e *env, r *wire.OffboardResponse) {
	fmt.Fprintf(e.stdout, "offboarded %s: account disabled, sessions ended, WebSockets closed\n", cleanLine(r.UserID))
	fmt.Fprintf(e.stdout, "roles revoked: %s (user kept)\n", orDash(strings.Join(r.RolesRevoked, ", ")))
	fmt.Fprintf(e.stdout, "service tokens revoked: %d\n", r.TokensRevoked)
	fmt.Fprintf(e.stdout, "device keys removed: passkeys %d, TOTP %t, recovery codes %d, code addresses %d\n",
		r.PasskeysRemoved, r.TOTPRemoved, r.RecoveryCodesRemoved, r.ContactsRemoved)
	fmt.Fprintf(e.stdout, "removed from %d conversations (history kept)\n", len(r.ConversationsLeft))
	for _, o := range r.OwnershipTransferred {
		fmt.Fprintf(e.stdout, "  %s: owner now %s\n", cleanLine(o.ConversationID), orDash(o.NewOwnerID))
	}
}

func printAccount(e *env, a *wire.Account, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, a)
	}
	opt := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return fmtTime(*t)
	}
	w := table(e.stdout)
	fmt.Fprintf(w, "user\t%s (%s)\n", cleanLine(a.UserID), cleanLine(a.Username))
	fmt.Fprintf(w, "kind\t%s\n", cleanLine(a.Kind))
	fmt.Fprintf(w, "status\t%s\n", cleanLine(a.Status))
	fmt.Fprintf(w, "roles\t%s\n", orDash(strings.Join(a.Roles, ", ")))
	fmt.Fprintf(w, "end date\t%s\n", opt(a.EndDate))
	fmt.Fprintf(w, "last login\t%s\n", opt(a.LastLoginAt))
	if a.DisabledAt != nil {
		by := a.DisabledBy
		if by == "" {
			by = "the server"
		}
		fmt.Fprintf(w, "disabled\t%s by %s: %s\n", opt(a.DisabledAt), cleanLine(by), orDash(a.DisabledReason))
	}
	return w.Flush()
}
