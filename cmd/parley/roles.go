package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/wire"
)

// runRoles lists, grants and revokes roles (security admins; Z1, Z9).
//
//	parley roles list [--json]
//	parley roles grants USER-ID [--json]
//	parley roles grant USER-ID ROLE [--department ID] [--reason TEXT]
//	parley roles revoke USER-ID ROLE [--department ID] [--reason TEXT]
func runRoles(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("expected a subcommand: list, grants, grant or revoke")
	}
	fs := e.newFlags("roles")
	asJSON := fs.Bool("json", false, "print JSON")
	dept := fs.String("department", "", "department scope (department_admin, custom roles)")
	reason := fs.String("reason", "", "why (recorded in the audit trail)")
	rest, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"list": 0, "grants": 1, "grant": 2, "revoke": 2}
	n, ok := want[args[0]]
	if !ok {
		return usagef("unknown subcommand %q", args[0])
	}
	if len(rest) != n {
		return usagef("roles %s takes %d argument(s)", args[0], n)
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		roles, err := c.Roles(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, roles)
		}
		for _, r := range roles {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", cleanLine(r.RoleID), cleanLine(r.Name), cleanLine(strings.Join(r.Permissions, ",")))
		}
		return nil
	case "grants":
		gs, err := c.UserGrants(ctx, rest[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e.stdout, gs)
		}
		printGrants(e, "", gs)
		return nil
	case "grant":
		res, err := c.GrantRole(ctx, rest[0], wire.GrantRoleRequest{Role: rest[1], DepartmentID: *dept, Reason: *reason})
		if err != nil {
			return err
		}
		if res.Status == "pending_approval" {
			fmt.Fprintf(e.stdout, "waiting for a second administrator: request %s\n", cleanLine(res.RequestID))
			return nil
		}
		fmt.Fprintln(e.stdout, "granted; the user's sessions were ended")
		return nil
	default:
		if err := c.RevokeRole(ctx, rest[0], wire.GrantRoleRequest{Role: rest[1], DepartmentID: *dept, Reason: *reason}); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "revoked; the user's sessions were ended")
		return nil
	}
}

func printGrants(e *env, prefix string, gs []wire.Grant) {
	for _, g := range gs {
		last := "never"
		if g.LastUsedAt != nil {
			last = g.LastUsedAt.Format("2006-01-02")
		}
		scope := g.DepartmentID
		if scope == "" {
			scope = "*"
		}
		fmt.Fprintf(e.stdout, "%s%s\t%s\tgranted %s by %s\tlast used %s\n", prefix, cleanLine(g.Role), cleanLine(scope),
			g.GrantedAt.Format("2006-01-02"), orDash(g.GrantedBy), last)
	}
}

// runAccessReview prints the access-review report (Z8).
//
//	parley access-review [--json | --csv]
func runAccessReview(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("access-review")
	asJSON := fs.Bool("json", false, "print JSON")
	asCSV := fs.Bool("csv", false, "print CSV (as the server renders it)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 || (*asJSON && *asCSV) {
		return usagef("access-review takes no arguments and one of --json or --csv")
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	if *asCSV {
		raw, err := c.AccessReviewCSV(ctx)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(raw)
		return err
	}
	rep, err := c.AccessReview(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, rep)
	}
	for _, u := range rep.Users {
		flags := ""
		if len(u.Flags) > 0 {
			flags = "\t! " + strings.Join(u.Flags, " ")
		}
		fmt.Fprintf(e.stdout, "%s (%s) %s%s\n", cleanLine(u.Username), cleanLine(u.UserID), cleanLine(u.Status), cleanLine(flags))
		printGrants(e, "  ", u.Grants)
	}
	return nil
}
