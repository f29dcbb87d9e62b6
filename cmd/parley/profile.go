package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/wire"
)

// Directory entries (M5):
//
//	parley admin user-update USER [--display-name N] [--department D] [--title T] [--json]
//
// changes another user's entry (system admins, after a step-up). Only the
// flags given are sent: --title "" clears the title. USER is a user ID
// (u_…) or a username; D a department ID (d_…) or name. Role grants stay
// with their departments: moving a department admin does not move what
// they administer ("parley roles grants USER" shows it).

const profileUsage = "admin user-update USER [--display-name N] [--department D] [--title T]"

func runAdminUserUpdate(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("admin")
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("display-name", "", "user-update: the new display name")
	dept := fs.String("department", "", "user-update: move to this department (ID or name)")
	title := fs.String("title", "", `user-update: the job title ("" clears it)`)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("admin user-update takes 1 argument: USER")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["display-name"] && !set["department"] && !set["title"] {
		return usagef("give at least one of --display-name, --department, --title")
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	id, err := resolveUser(ctx, c, rest[0])
	if err != nil {
		return err
	}
	var req wire.UpdateUserRequest
	if set["display-name"] {
		req.DisplayName = name
	}
	if set["title"] {
		req.Title = title
	}
	if set["department"] {
		d, err := resolveDepartment(ctx, c, *dept)
		if err != nil {
			return err
		}
		req.DepartmentID = &d
	}
	u, err := c.UpdateUser(ctx, id, req)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, u)
	}
	w := table(e.stdout)
	fmt.Fprintf(w, "user\t%s\n", cleanLine(u.UserID))
	fmt.Fprintf(w, "username\t%s\n", cleanLine(u.Username))
	fmt.Fprintf(w, "display name\t%s\n", orDash(u.DisplayName))
	fmt.Fprintf(w, "department\t%s\n", orDash(u.DepartmentID))
	fmt.Fprintf(w, "title\t%s\n", orDash(u.Title))
	return w.Flush()
}

// resolveDepartment takes a department ID as it is and looks a name up in
// the tree (exact, case-insensitive); a name two departments share must
// be given as an ID.
func resolveDepartment(ctx context.Context, c *client.Client, which string) (string, error) {
	if which == "" {
		return "", usagef("--department needs a department ID or name")
	}
	if strings.HasPrefix(which, "d_") {
		return which, nil
	}
	deps, err := c.Departments(ctx)
	if err != nil {
		return "", err
	}
	found := ""
	for _, d := range deps {
		if strings.EqualFold(d.Name, which) {
			if found != "" {
				return "", fmt.Errorf("more than one department is named %q; give the department ID (d_…)", cleanLine(which))
			}
			found = d.DepartmentID
		}
	}
	if found == "" {
		return "", fmt.Errorf("no department named %q; give the department ID (d_…)", cleanLine(which))
	}
	return found, nil
}
