package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/wire"
)

func runUsers(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("users")
	asJSON := fs.Bool("json", false, "print JSON")
	dept := fs.String("department", "", "only this department (ID or name) and its sub-departments")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usagef("expected at most one query")
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	var users []wire.UserSummary
	if *dept != "" {
		d, err := resolveDepartment(ctx, c, *dept) // profile.go
		if err != nil {
			return err
		}
		users, err = c.UsersInDepartment(ctx, d, strings.Join(rest, ""))
		if err != nil {
			return err
		}
	} else if users, err = c.Users(ctx, strings.Join(rest, "")); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, wire.UserList{Users: nonNil(users)})
	}
	w := table(e.stdout)
	fmt.Fprintln(w, "ID\tUSERNAME\tNAME\tDEPARTMENT\tTITLE")
	for _, u := range users {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", cleanLine(u.UserID), cleanLine(u.Username), orDash(u.DisplayName), orDash(u.DepartmentID), orDash(u.Title))
	}
	return w.Flush()
}

// createUserArgs are the parsed flags of "parley create-user". There is no
// --password flag on purpose: command lines end up in shell history and in
// the process list.
type createUserArgs struct {
	req           wire.CreateUserRequest
	passwordStdin bool
}

func parseCreateUserArgs(e *env, args []string) (*createUserArgs, error) {
	var a createUserArgs
	var roles string
	fs := e.newFlags("create-user")
	fs.StringVar(&a.req.Username, "username", "", "user name (required)")
	fs.StringVar(&a.req.DisplayName, "display-name", "", "display name (required)")
	fs.StringVar(&a.req.DepartmentID, "department", "", "department ID")
	fs.StringVar(&roles, "roles", "", "comma-separated role IDs, e.g. user,auditor")
	fs.BoolVar(&a.passwordStdin, "password-stdin", false, "read the initial password from standard input")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("unexpected argument %q", rest[0])
	}
	if a.req.Username == "" || a.req.DisplayName == "" {
		return nil, usagef("--username and --display-name are required")
	}
	a.req.Roles = splitList(roles)
	return &a, nil
}

func runCreateUser(ctx context.Context, e *env, args []string) error {
	a, err := parseCreateUserArgs(e, args)
	if err != nil {
		return err
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	if a.passwordStdin {
		a.req.Password, err = e.line("")
	} else {
		a.req.Password, err = e.newPassword()
	}
	if err != nil {
		return err
	}
	id, err := c.CreateUser(ctx, a.req)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, cleanLine(id))
	return nil
}

// newPassword asks twice without echo.
func (e *env) newPassword() (string, error) {
	p1, err := e.readPassword("Initial password: ")
	if err != nil {
		return "", err
	}
	p2, err := e.readPassword("Repeat: ")
	if err != nil {
		return "", err
	}
	if p1 != p2 {
		return "", errors.New("the passwords differ")
	}
	return p1, nil
}

func isAPIError(err error) bool {
	var e *client.APIError
	return errors.As(err, &e)
}
