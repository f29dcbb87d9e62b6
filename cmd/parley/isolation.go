package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/wire"
)

// runAdminIsolation reads or replaces the department isolation policy
// (Z7; security admins, with a second factor used in the last minutes):
//
//	parley admin isolation [--json]
//	parley admin isolation set --template open|strict [--allow DEPT,DEPT]...
func runAdminIsolation(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "set" {
		return runAdminIsolationSet(ctx, e, args[1:])
	}
	fs := e.newFlags("admin")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	p, err := c.IsolationPolicy(ctx)
	if err != nil {
		return err
	}
	return printIsolation(e, p, *asJSON)
}

func runAdminIsolationSet(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("admin")
	p := wire.IsolationPolicy{Allow: []wire.IsolationRule{}}
	fs.StringVar(&p.Template, "template", "", `"open" or "strict" (required)`)
	fs.Func("allow", "a pair of department IDs A,B whose subtrees may talk (repeatable)", func(v string) error {
		a, b, ok := strings.Cut(v, ",")
		if !ok || a == "" || b == "" || strings.Contains(b, ",") {
			return fmt.Errorf("want two department IDs separated by a comma, got %q", v)
		}
		p.Allow = append(p.Allow, wire.IsolationRule{A: a, B: b})
		return nil
	})
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if p.Template == "" {
		return usagef("--template is required")
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	got, err := c.SetIsolationPolicy(ctx, p)
	if err != nil {
		return err
	}
	return printIsolation(e, got, *asJSON)
}

// printIsolation prints one "template" line and one "allow" line per rule;
// the strings came from the server, so they are cleaned.
func printIsolation(e *env, p *wire.IsolationPolicy, asJSON bool) error {
	if asJSON {
		if p.Allow == nil {
			p.Allow = []wire.IsolationRule{}
		}
		return printJSON(e.stdout, p)
	}
	fmt.Fprintf(e.stdout, "template\t%s\n", cleanLine(p.Template))
	for _, r := range p.Allow {
		fmt.Fprintf(e.stdout, "allow\t%s\t%s\n", cleanLine(r.A), cleanLine(r.B))
	}
	return nil
}
