package main

import (
	"context"
	"fmt"
	"time"
)

// runStepUp confirms the signed-in user with a second factor again (A6), so
// that sensitive operations — role grants, policy, offboarding, supervision
// — are allowed for the next few minutes. The server replaces the session
// (A5); the new token is saved in place of the old one.
//
//	parley step-up        asks for an authenticator code or r:RECOVERY-CODE
func runStepUp(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("step-up")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	path, cfg, err := e.configFile()
	if err != nil {
		return err
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	input, err := e.line("Second factor (authenticator code, r:RECOVERY-CODE): ")
	if err != nil {
		return err
	}
	method, code, err := parseMFACode(input)
	if err != nil {
		return err
	}
	res, err := c.StepUp(ctx, method, code, "")
	if err != nil {
		return err
	}
	cfg.Token = c.Token()
	if err := e.save(path, cfg); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Confirmed; sensitive operations are allowed for a few minutes (session valid until %s).\n",
		res.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}
